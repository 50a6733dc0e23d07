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

"""Where everything of one local cloud lives: folders, ports, URLs.

One state folder holds every service's configuration, logs, PID files and
data; every service listens on 127.0.0.1, on ports a test can move.
"""

import os

from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases

REGION = 'RegionOne'
HOST = '127.0.0.1'
DEFAULT_PORTS = {
    'mysql': 13306,
    'amqp': 15672,
    'rabbit_dist': 25672,
    'epmd': 14369,
    'keystone': 5000,
    'placement': 8778,
    'glance': 9292,
    'neutron': 9696,
    'nova': 8774,
    'openflow': 16633,
}
# In the state folder and kept by every up: the subunit stream of the last
# passing tempest run of the whole suite. A new workspace loads it, so
# stestr shares the tests out by their durations rather than round-robin.
TEMPEST_TIMES = 'tempest-times.subunit'
DRIVERS = ('ovs', 'ovn', 'fake')
DEFAULT_DRIVER = 'ovs'


class Layout:
    """Where everything of one local cloud lives."""

    def __init__(self, state_dir, venv, ports=None, password='secret',
                 compute_host='localcloud-compute', driver=DEFAULT_DRIVER,
                 neutron_workers=1, release=None):
        if driver not in DRIVERS:
            raise ValueError('unknown driver %r: one of %s'
                             % (driver, ', '.join(DRIVERS)))
        self.driver = driver
        # A name (or None: the newest) or a releases.Release.
        self.release = (release if isinstance(release, releases.Release)
                        else releases.get(release or releases.NEWEST))
        self.neutron_workers = neutron_workers
        self.state = os.path.abspath(state_dir)
        self.venv = os.path.abspath(venv)
        self.ports = dict(DEFAULT_PORTS, **(ports or {}))
        self.password = password
        self.compute_host = compute_host
        self.processes = process.Processes(self.path('run'),
                                           self.path('log'), self.state)

    def path(self, *parts):
        return os.path.join(self.state, *parts)

    def etc(self, service, *parts):
        return self.path('etc', service, *parts)

    def bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    def url(self, service, suffix=''):
        return 'http://%s:%d%s' % (HOST, self.ports[service], suffix)

    @property
    def auth_url(self):
        return self.url('keystone', '/v3')

    def db(self, name):
        return 'mysql+pymysql://openstack:%s@%s:%d/%s?charset=utf8' % (
            self.password, HOST, self.ports['mysql'], name)

    @property
    def transport_url(self):
        return 'rabbit://guest:guest@%s:%d/' % (HOST, self.ports['amqp'])

    @property
    def switch_db(self):
        """The private Open vSwitch's database."""
        return 'unix:' + self.path('ovs', 'db.sock')

    def switch_env(self, base=None):
        """The environment ``ovs-vsctl`` and friends find the switch by."""
        folder = self.path('ovs')
        return dict(os.environ if base is None else base, OVS_RUNDIR=folder,
                    OVS_DBDIR=folder, OVS_LOGDIR=folder)

    def ovn_db(self, which):
        """OVN's ``nb`` or ``sb`` database."""
        return 'unix:' + self.path('ovn', 'ovn%s_db.sock' % which)

    def service_auth(self, user, **extra):
        """Password auth as a service user, for a keystoneauth section."""
        values = {'auth_type': 'password', 'auth_url': self.auth_url,
                  'username': user, 'password': self.password,
                  'user_domain_name': 'Default', 'project_name': 'service',
                  'project_domain_name': 'Default', 'region_name': REGION}
        values.update(extra)
        return values

    def authtoken(self, user):
        return self.service_auth(
            user, www_authenticate_uri=self.url('keystone'),
            service_token_roles_required=True)

    def launcher(self):
        return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'launcher.py')

    def api_command(self, module, service, threads=8, workers=1):
        return [self.bin('python'), self.launcher(), module, HOST,
                str(self.ports[service]), str(threads), str(workers)]
