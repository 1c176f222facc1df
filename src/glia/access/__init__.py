"""Who may do what: accounts, roles per ecosystem, and Cedar policies.

Pure: no database, no web framework. The store keeps accounts, roles,
tokens and sessions (:mod:`glia.store`); the API and the web workspace ask
:class:`Authorizer` before every read and write.

Roles, per ecosystem:

- **orchestrator**: everything in the ecosystem, the principles and access included;
- **member**: reads the common picture (map, analysis, pipeline, principles);
  in a ``shared-access`` ecosystem (the default) the whole picture, the ledger
  included; in a ``controlled-access`` one only what their swarms touch; acts
  (consents, commitments, contributions, messages) on what their swarms touch;
- **observer**: reads what a member reads, never writes, and sees no swarm
  of its own.
"""

from ._policy import (
    ACCESS_MODES,
    ACTIONS,
    ROLES,
    AccessMode,
    Action,
    Authorizer,
    Principal,
    Resource,
    Role,
    RoleName,
)
from ._secrets import digest, hash_password, new_secret, verify_password

__all__ = [
    "ACCESS_MODES",
    "ACTIONS",
    "ROLES",
    "AccessMode",
    "Action",
    "Authorizer",
    "Principal",
    "Resource",
    "Role",
    "RoleName",
    "digest",
    "hash_password",
    "new_secret",
    "verify_password",
]
