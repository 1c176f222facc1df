"""Files in and out: native YAML/JSON, spreadsheets, GraphML, ValueFlows JSON-LD."""

from ._open import NATIVE_SUFFIXES, open_source, read, read_source
from ._source import EcosystemSource, MappingSource, Source
from .graphml import GRAPHML_LAYERS, dump_graphml, graphml_lines, graphml_node_id, write_graphml
from .native import (
    MAX_DOCUMENT_BYTES,
    dump_native,
    load_document,
    native_source,
    read_native,
    write_native,
)
from .tabular import (
    CsvFolderSource,
    ElementConnectionSource,
    WorkbookSource,
    open_tabular,
    read_tabular,
    write_ecosystem_tables,
    write_tables,
)
from .valueflows import (
    GLIA_NAMESPACE,
    VF_ACTIONS,
    VF_CONTEXT,
    VF_NAMESPACE,
    dump_valueflows,
    ecosystem_slug,
    valueflows_document,
    valueflows_nodes,
    write_valueflows,
)

__all__ = [
    "GLIA_NAMESPACE",
    "GRAPHML_LAYERS",
    "MAX_DOCUMENT_BYTES",
    "NATIVE_SUFFIXES",
    "VF_ACTIONS",
    "VF_CONTEXT",
    "VF_NAMESPACE",
    "CsvFolderSource",
    "EcosystemSource",
    "ElementConnectionSource",
    "MappingSource",
    "Source",
    "WorkbookSource",
    "dump_graphml",
    "dump_native",
    "dump_valueflows",
    "ecosystem_slug",
    "graphml_lines",
    "graphml_node_id",
    "load_document",
    "native_source",
    "open_source",
    "open_tabular",
    "read",
    "read_native",
    "read_source",
    "read_tabular",
    "valueflows_document",
    "valueflows_nodes",
    "write_ecosystem_tables",
    "write_graphml",
    "write_native",
    "write_tables",
    "write_valueflows",
]
