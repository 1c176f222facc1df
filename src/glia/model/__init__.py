"""The domain model: immutable records of an ecosystem and their validation.

No input or output happens here; readers in :mod:`glia.io` turn files into
raw rows, and this package turns rows into records, or into problems.
"""

from ._check import (
    SECTIONS,
    ReferenceIndex,
    problems_from_error,
    validate_rows,
    validate_tie_rows,
)
from ._ecosystem import (
    CollectingSink,
    DocumentRows,
    Ecosystem,
    check_references,
    validate_document,
)
from ._problems import MAX_PROBLEMS, NO_VALUE, InvalidInput, Location, Problem, format_value
from ._records import (
    ASSET_KINDS,
    CLUSTER_KINDS,
    EXCHANGE_TYPES,
    FORMAT_VERSION,
    AssetImpact,
    Attributes,
    Cluster,
    Exchange,
    Need,
    Opportunity,
    Participant,
    Role,
    Tie,
)
from ._stream import (
    HEADER_FIELDS,
    ColumnarSink,
    Columns,
    ColumnsUnavailable,
    Header,
    Sink,
    StreamResult,
    check_stream,
    record_fields,
)

__all__ = [
    "ASSET_KINDS",
    "CLUSTER_KINDS",
    "EXCHANGE_TYPES",
    "FORMAT_VERSION",
    "HEADER_FIELDS",
    "MAX_PROBLEMS",
    "NO_VALUE",
    "SECTIONS",
    "AssetImpact",
    "Attributes",
    "Cluster",
    "CollectingSink",
    "ColumnarSink",
    "Columns",
    "ColumnsUnavailable",
    "DocumentRows",
    "Ecosystem",
    "Exchange",
    "Header",
    "InvalidInput",
    "Location",
    "Need",
    "Opportunity",
    "Participant",
    "Problem",
    "ReferenceIndex",
    "Role",
    "Sink",
    "StreamResult",
    "Tie",
    "check_references",
    "check_stream",
    "format_value",
    "problems_from_error",
    "record_fields",
    "validate_document",
    "validate_rows",
    "validate_tie_rows",
]
