"""Files in and out: native YAML/JSON, spreadsheets, GraphML, ValueFlows JSON-LD."""

from ._open import NATIVE_SUFFIXES, open_source, read, read_source
from ._source import EcosystemSource, MappingSource, Source
from .native import (
    MAX_DOCUMENT_BYTES,
    dump_native,
    load_document,
    native_source,
    read_native,
    write_native,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "NATIVE_SUFFIXES",
    "EcosystemSource",
    "MappingSource",
    "Source",
    "dump_native",
    "load_document",
    "native_source",
    "open_source",
    "read",
    "read_native",
    "read_source",
    "write_native",
]
