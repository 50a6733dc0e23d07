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

"""The deletes a ``watch`` awaits: footprints recorded at a delete's start.

Another ``watch`` on the pool may get the delete's end, or it may be lost:
the one that recorded the start keeps the footprint until Nova lists the
server deleted. One file per server (a start recorded again replaces it),
with when Nova sent the start, so a restart keeps each entry's age.
"""

import collections
import hashlib
import json
import os
import threading

from trunk_cleanup_tempest import cleanup

# A footprint and when Nova sent its delete's start (timezone-aware).
Awaited = collections.namedtuple('Awaited', 'footprint sent_at')


def _text(entry):
    return json.dumps({'footprint': entry.footprint.to_dict(),
                       'sent_at': entry.sent_at.isoformat()},
                      indent=2, sort_keys=True)


def _entry(text):
    try:
        data = json.loads(text)
        sent_at = cleanup.stamp_utc(data['sent_at'])
        footprint = cleanup.Footprint.from_dict(data['footprint'])
    except (ValueError, KeyError, TypeError) as exc:
        raise cleanup.InvalidFootprint('not an awaited delete: %s' % exc)
    if sent_at is None or not footprint.server_id:
        raise cleanup.InvalidFootprint('not an awaited delete: no time or '
                                       'server')
    return Awaited(footprint, sent_at)


class AwaitJournal:
    """A folder of awaited deletes, one file per server, written durably."""

    def __init__(self, folder):
        self.folder = folder
        # A start recorded again (the listener) and the end of the old
        # entry (the awaiter) must not undo each other.
        self.lock = threading.Lock()

    def _path(self, server_id):
        key = hashlib.sha256(server_id.encode()).hexdigest()
        return os.path.join(self.folder, '%s.json' % key)

    def check(self):
        """Raise ``OSError`` now if entries cannot be written here."""
        cleanup.Journal(self.folder).check()

    def add(self, entry):
        with self.lock:
            cleanup.write_durably(self._path(entry.footprint.server_id),
                                  _text(entry))

    def done(self, entry):
        """Remove ``entry``, unless a newer one of its server replaced it."""
        path = self._path(entry.footprint.server_id)
        with self.lock:
            try:
                with open(path) as f:
                    if f.read() != _text(entry):
                        return
                os.unlink(path)
            except FileNotFoundError:
                return
            cleanup.sync_folder(self.folder)

    def pending(self):
        """Every entry, oldest first; unreadable ones are logged."""
        return sorted(cleanup.read_entries(self.folder, _entry,
                                           'awaited delete'),
                      key=lambda e: e.sent_at)
