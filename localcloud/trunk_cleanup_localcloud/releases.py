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

"""The OpenStack releases the local cloud runs, and all that differs.

A tempest plugin is branchless: one master serves every maintained
branch, so the local cloud runs each maintained release's services, each
from a pinned set (``requirements-<release>.txt``) in a virtualenv of its
own. Whatever a release needs done otherwise when the services are
configured or started is said here, once, and nowhere else.
"""

import dataclasses
import os

HERE = os.path.dirname(os.path.abspath(__file__))
# Which release ``up`` runs when none is named.
VARIABLE = 'TRUNK_CLEANUP_LOCALCLOUD_RELEASE'


@dataclasses.dataclass(frozen=True)
class Release:
    name: str
    # keystone, placement, glance, nova, neutron: what the pins hold.
    versions: str
    # Neutron before 2026.2 (29) reads its API worker count from
    # ``[DEFAULT] api_workers`` (by default, one per CPU; ML2/OVN's hash
    # ring needs the true count), not from ``ASGI_WORKERS``.
    neutron_api_workers_option: bool = False
    # Variables for the nova API only. Nova 32 patches eventlet when its
    # API is imported unless told not to (its threaded API was already
    # there, the default from 33 on); the local cloud serves the API from
    # threads (waitress, gunicorn).
    nova_api_environ: tuple = ()

    @property
    def requirements(self):
        return os.path.join(HERE, 'requirements-%s.txt' % self.name)


RELEASES = (
    Release('2025.2', 'keystone 28.1.0, placement 14.0.0, glance 31.1.0, '
            'nova 32.2.1, neutron 27.0.4',
            neutron_api_workers_option=True,
            nova_api_environ=(('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1'),)),
    Release('2026.1', 'keystone 29.1.0, placement 15.0.0, glance 32.0.0, '
            'nova 33.0.2, neutron 28.0.2',
            neutron_api_workers_option=True),
    Release('2026.2', 'keystone 30.0.0, placement 16.0.0, glance 33.0.0, '
            'nova 34.0.0, neutron 29.0.0'),
)
NAMES = tuple(r.name for r in RELEASES)
OLDEST = NAMES[0]
NEWEST = NAMES[-1]


def get(name=None):
    """The release named, else the variable's, else the newest.

    :raises ValueError: no such release.
    """
    name = name or os.environ.get(VARIABLE) or NEWEST
    for release in RELEASES:
        if release.name == name:
            return release
    raise ValueError('unknown release %r: one of %s'
                     % (name, ', '.join(NAMES)))
