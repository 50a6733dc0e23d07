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

"""Counting the API calls a cleanup makes, for its report.

Each report says how many calls of each kind its run made (``calls``), so
the cost of the guards can be seen and kept down. The three clients are
wrapped, so every call made through them counts; a guarded write goes
around the wrapper (``raw``) and counts itself (``tally``).
"""

import threading


class _Counted:
    """A client whose method calls are counted (by method name)."""

    def __init__(self, client, counts, lock):
        self._client = client
        self._counts = counts
        self._lock = lock
        self.raw = client

    def tally(self, name):
        """Count a call made on :attr:`raw` as ``name``."""
        # A step's port deletes may go at once (see Executor).
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.tally(name)
            return attr(*args, **kwargs)
        return counted


class CountingClients:
    """The three clients the library uses, counting every API call."""

    def __init__(self, clients):
        self.calls = {}
        lock = threading.Lock()
        for name in ('trunks_client', 'ports_client', 'servers_client'):
            setattr(self, name, _Counted(getattr(clients, name), self.calls,
                                         lock))
