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

"""A fault-injecting proxy in front of the local cloud's Neutron and Nova.

mitmproxy's ``mitmdump`` runs in reverse mode with the addon in
``faults_addon.py``; faults and latency are programmed per test by
rewriting a rules file. The services are never changed: only the clients
that are pointed at the proxy (``OS_NETWORK_ENDPOINT_OVERRIDE``,
``OS_COMPUTE_ENDPOINT_OVERRIDE``) meet the faults.
"""

import json
import os

from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import virtualenvs

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, 'proxy-requirements.txt')
ADDON = os.path.join(HERE, 'faults_addon.py')
NAME = 'faultproxy'
# The proxy listens on each API's port plus this.
PORT_OFFSET = 10000
# (service, catalog type, path of the catalog endpoint)
PROXIED = (('neutron', 'network', ''), ('nova', 'compute', '/v2.1'))


def rule(action, path='', method=None, nth=1, times=1, **params):
    """One fault: ``action`` on the ``nth`` request matching the rest.

    :param action: ``status`` (with ``status`` and Neutron's error
        ``type``, or a raw ``body`` and ``content_type``), ``delay`` (with
        ``seconds``), ``cap`` (a list's page lowered to ``limit``), ``drop``
        or ``drop_after`` (the cloud applies the request, the answer is
        lost), ``hide`` (the items whose ``id`` is in ``ids`` are taken
        out of a list's answer).
    :param path: a regular expression searched in the request path.
    :param method: a method or a list of them; ``writes=True`` instead
        matches every write.
    :param times: how many times it fires once reached (0: always).
    """
    if isinstance(method, str):
        method = [method]
    return dict(params, action=action, path=path, method=method, nth=nth,
                times=times)


class FaultProxy:
    """The proxy of one local cloud, under its state folder."""

    def __init__(self, cloud, venv=None):
        self.cloud = cloud
        self.layout = cloud.layout()
        # Beside the services' virtualenv, reused as it is.
        self.venv = venv or virtualenvs.default_venv(
            REQUIREMENTS, 'proxy', os.path.dirname(cloud.venv))
        self.dir = self.layout.path(NAME)
        self.rules_file = os.path.join(self.dir, 'rules.json')
        self.events_file = os.path.join(self.dir, 'events.jsonl')

    def port(self, service):
        return self.layout.ports[service] + PORT_OFFSET

    def start(self):
        """Start mitmdump with no fault programmed; wait until it listens."""
        virtualenvs.ensure_venv(self.venv, log=self.cloud.out,
                                requirements=REQUIREMENTS)
        os.makedirs(self.dir, exist_ok=True)
        self.program()
        command = [os.path.join(self.venv, 'bin', 'mitmdump'),
                   '--set', 'termlog_verbosity=warn',
                   '--set', 'flow_detail=0',
                   '--set', 'connection_strategy=lazy',
                   '--set', 'confdir=' + os.path.join(self.dir, 'conf'),
                   '-s', ADDON]
        for service, _, _ in PROXIED:
            command += ['--mode', 'reverse:%s@%s:%d' % (
                self.layout.url(service), layout_mod.HOST,
                self.port(service))]
        procs = self.layout.processes
        procs.start(NAME, command, env=dict(
            os.environ, FAULTS_RULES=self.rules_file,
            FAULTS_EVENTS=self.events_file))
        process.wait_until(
            NAME, command, procs.log(NAME),
            lambda: all(process.port_open(layout_mod.HOST, self.port(s))
                        for s, _, _ in PROXIED),
            60, processes=procs, name=NAME)

    def stop(self):
        return self.layout.processes.stop(NAME)

    def program(self, rules=(), latency=0.0):
        """Replace the faults (and reset their counters).

        :param rules: what :func:`rule` makes.
        :param latency: seconds added to every request.
        """
        tmp = self.rules_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'rules': list(rules), 'latency': latency}, f)
        # A new file (a new inode) is how the addon sees the change.
        os.replace(tmp, self.rules_file)

    def events(self, clear=True):
        """Every request the proxy saw since the last call, in order."""
        try:
            with open(self.events_file) as f:
                found = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            found = []
        if clear:
            open(self.events_file, 'w').close()
        return found

    def environ(self, user='demo'):
        """``OS_*`` variables whose network and compute go through here."""
        env = self.cloud.environ(user)
        for service, kind, path in PROXIED:
            env['OS_%s_ENDPOINT_OVERRIDE' % kind.upper()] = (
                'http://%s:%d%s' % (layout_mod.HOST, self.port(service), path))
        return env
