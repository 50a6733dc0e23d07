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

"""The footprints being cleaned, on disk, until they are done.

Once a trunk is deleted, nothing in Neutron links its subports (and the
parent port) to it or to the server any more: a run that is killed, or
whose port deletes fail, would lose them. Each footprint is written here
before the first write and removed when its cleanup ends with nothing
failed, so the next run (``trunk-cleanup orphans``, ``watch``) finds it.
"""

import contextlib
import errno
import hashlib
import os
import threading

from oslo_log import log as logging

from trunk_cleanup_tempest.cleanup import errors
from trunk_cleanup_tempest.cleanup import footprint as fp_mod

LOG = logging.getLogger(__name__)


def write(path, text):
    """Write a file whole or not at all, and durably (file and folder)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = '%s.%d-%d.tmp' % (path, os.getpid(), threading.get_ident())
    try:
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_folder(folder)


def sync_folder(folder):
    """Make a folder's entries (a file made, replaced or removed) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Journal:
    """A folder of footprints, one file each, written durably."""

    def __init__(self, folder):
        self.folder = folder

    def _path(self, footprint):
        # A fixed length, whatever the number of trunks; one entry per
        # footprint, so two footprints of one trunk (a server's, then the
        # next one's on the same parent) never remove each other's.
        key = hashlib.sha256(footprint.to_json().encode()).hexdigest()
        return os.path.join(self.folder, '%s.json' % key)

    def _legacy_path(self, footprint):
        # Entries written before, named after the trunk IDs alone.
        key = hashlib.sha256(
            ','.join(sorted(footprint.trunk_ids)).encode()).hexdigest()
        return os.path.join(self.folder, '%s.json' % key)

    def check(self):
        """Raise ``OSError`` now if entries cannot be written here."""
        os.makedirs(self.folder, exist_ok=True)
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, 'cannot write the journal',
                                  self.folder)

    def add(self, footprint):
        write(self._path(footprint), footprint.to_json())

    def done(self, footprint):
        removed = False
        legacy = self._legacy_path(footprint)
        for path in (self._path(footprint), legacy):
            try:
                if path == legacy:
                    with open(path) as f:
                        if f.read() != footprint.to_json():
                            continue
                os.unlink(path)
                removed = True
            except FileNotFoundError:
                continue
        if removed:
            sync_folder(self.folder)

    def pending(self):
        """Every footprint in the journal; unreadable entries are logged."""
        return read_entries(self.folder, fp_mod.Footprint.from_json)


def read_entries(folder, parse, what='journal entry'):
    """``parse`` of the text of every entry in ``folder``, by name.

    An entry that cannot be read or parsed (``CleanupError``) is logged
    and skipped: one bad file must not stop the rest.
    """
    found = []
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    for name in names:
        if not name.endswith('.json'):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path) as f:
                found.append(parse(f.read()))
        except (OSError, errors.CleanupError) as exc:
            LOG.error('%s %s skipped: %s', what, path, exc)
    return found
