# Copyright 2026 trunk_cleanup_tempest developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Find and clean what a deleted server left on Neutron trunks.

The library reads and writes the cloud only through tempest.lib service
clients and knows nothing of tests: the scenario tests and the operator
command both call it. The flow is::

    footprint = record_server(clients, server_id)   # before the delete
    ...                                              # the server is deleted
    leftovers = inspect(clients, footprint)
    report = cleanup(clients, footprint, dry_run=True)

Nothing is cleaned unless the cloud proves the server deleted (see
:mod:`~.evidence`), and a parent port the user created is kept, as Nova
keeps it, unless ``delete_parent=True``.

:func:`record` builds a footprint from a server (live or gone), a trunk or
a parent port. The names below are the library's face: the command and
``watch`` use nothing else, so its modules can change behind it.
"""

from trunk_cleanup_tempest.cleanup.errors import CleanupError  # noqa: F401
from trunk_cleanup_tempest.cleanup.errors import CONNECTION_ERRORS  # noqa
from trunk_cleanup_tempest.cleanup.errors import error_text  # noqa: F401
from trunk_cleanup_tempest.cleanup.errors import InvalidFootprint  # noqa
from trunk_cleanup_tempest.cleanup.errors import NotFound  # noqa: F401
from trunk_cleanup_tempest.cleanup.errors import retriable  # noqa: F401
from trunk_cleanup_tempest.cleanup.errors import Unproven  # noqa: F401
from trunk_cleanup_tempest.cleanup.evidence import CLASSES  # noqa: F401
from trunk_cleanup_tempest.cleanup.evidence import deleted_since  # noqa
from trunk_cleanup_tempest.cleanup.evidence import PROVEN  # noqa: F401
from trunk_cleanup_tempest.cleanup.evidence import stamp_utc  # noqa: F401
from trunk_cleanup_tempest.cleanup.footprint import CREATED_BY  # noqa: F401
from trunk_cleanup_tempest.cleanup.footprint import Footprint  # noqa: F401
from trunk_cleanup_tempest.cleanup.footprint import record  # noqa: F401
from trunk_cleanup_tempest.cleanup.footprint import record_parent_port  # noqa
from trunk_cleanup_tempest.cleanup.footprint import record_ports  # noqa
from trunk_cleanup_tempest.cleanup.footprint import record_server  # noqa
from trunk_cleanup_tempest.cleanup.footprint import record_trunk  # noqa
from trunk_cleanup_tempest.cleanup.journal import Journal  # noqa: F401
from trunk_cleanup_tempest.cleanup.journal import read_entries  # noqa: F401
from trunk_cleanup_tempest.cleanup.journal import sync_folder  # noqa: F401
from trunk_cleanup_tempest.cleanup.journal import write as write_durably  # noqa
from trunk_cleanup_tempest.cleanup.leftovers import inspect  # noqa: F401
from trunk_cleanup_tempest.cleanup.listing import PaginationError  # noqa
from trunk_cleanup_tempest.cleanup.orphans import find_orphans  # noqa: F401
from trunk_cleanup_tempest.cleanup.orphans import parse_age  # noqa: F401
from trunk_cleanup_tempest.cleanup.planner import plan  # noqa: F401
from trunk_cleanup_tempest.cleanup.report import FAILED  # noqa: F401
from trunk_cleanup_tempest.cleanup.run import calling_threads  # noqa: F401
from trunk_cleanup_tempest.cleanup.run import cleanup  # noqa: F401
from trunk_cleanup_tempest.cleanup.run import cleanup_many  # noqa: F401
