"""Files in and out: native YAML/JSON, spreadsheets, GraphML, ValueFlows JSON-LD."""

from ._source import EcosystemSource, MappingSource, Source
from .native import MAX_DOCUMENT_BYTES, dump_native, load_document, read_native, write_native

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "EcosystemSource",
    "MappingSource",
    "Source",
    "dump_native",
    "load_document",
    "read_native",
    "write_native",
]
