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

"""Functional tests: the library and the plugin against the local cloud.

The cloud is started once per test run, by ``trunk-cleanup-localcloud
with -- stestr ...`` (``tox -e functional``), which names its state folder
in ``$TRUNK_CLEANUP_LOCALCLOUD``.
"""

import os
import re
import subprocess
import sys
import uuid

import fixtures
from oslotest import base
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc
from tempest.lib.services.compute import interfaces_client
from tempest.lib.services.identity.v3 import application_credentials_client
from tempest.lib.services.network import networks_client
from tempest.lib.services.network import subnets_client
from tempest.lib.services.network import tags_client

from trunk_cleanup_localcloud import cli as localcloud_cmd
from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import faultproxy
from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest import clients as clients_mod
from trunk_cleanup_tempest.common import trunks as tc_trunks


# A source tree whose ``trunk-cleanup`` the tests run instead of this one.
CLI_TREE = 'TRUNK_CLEANUP_CLI_TREE'
OTHER_TREE = (
    'import runpy, sys; '
    'sys.meta_path[:] = [f for f in sys.meta_path '
    'if "__editable__" not in type(f).__module__]; '
    'sys.path.insert(0, %r); '
    'runpy.run_module("trunk_cleanup_tempest.cmd.trunk_cleanup", '
    'run_name="__main__")')


class Clients(clients_mod.CloudClients):
    """The library's three clients plus what the tests use to set up."""

    def __init__(self, env, **kwargs):
        kwargs.setdefault('workers', 8)
        base_clients = clients_mod.from_environ(env, **kwargs)
        self.__dict__.update(base_clients.__dict__)
        self.networks_client = self.client(networks_client.NetworksClient,
                                           'network')
        self.subnets_client = self.client(subnets_client.SubnetsClient,
                                          'network')
        self.tags_client = self.client(tags_client.TagsClient, 'network')
        self.interfaces_client = self.client(
            interfaces_client.InterfacesClient, 'compute')


class FunctionalTestCase(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        state = os.environ.get(localcloud_cmd.STATE_VARIABLE)
        if not state:
            self.fail('$%s is not set: run the functional tests with '
                      '"tox -e functional", which starts the local cloud'
                      % localcloud_cmd.STATE_VARIABLE)
        self.cloud = cloud_mod.LocalCloud(state)
        self.demo_env = self.cloud.environ('demo')
        self.admin_env = self.cloud.environ('admin')
        self.demo = Clients(self.demo_env)
        self.admin = Clients(self.admin_env)

    def fault_proxy(self):
        """The cloud's fault proxy, started once, with no fault programmed.

        Point clients at it with ``proxy.environ()``.
        """
        proxy = faultproxy.FaultProxy(self.cloud)
        if not self.cloud.layout().processes.alive(faultproxy.NAME):
            proxy.start()
        proxy.program()
        self.addCleanup(proxy.program)
        proxy.events()
        return proxy

    # -- making a server on a trunk -----------------------------------

    def network(self, clients=None, subnet=True):
        clients = clients or self.demo
        net = clients.networks_client.create_network(
            name=data_utils.rand_name('functional'))['network']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        clients.networks_client.delete_network, net['id'])
        if subnet:
            # Each project has its own address space (overlapping IPs).
            sub = clients.subnets_client.create_subnet(
                network_id=net['id'], ip_version=4,
                cidr='10.0.0.0/24')['subnet']
            self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                            clients.subnets_client.delete_subnet, sub['id'])
        return net

    def port(self, network_id, clients=None):
        clients = clients or self.demo
        port = clients.ports_client.create_port(
            network_id=network_id,
            name=data_utils.rand_name('functional'))['port']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        clients.ports_client.delete_port, port['id'])
        return port

    def trunk(self, subports=2, clients=None, tag=None):
        """A user's parent port and subports on a trunk, with teardown.

        :param tag: a tag for the trunk, so a test finds its own orphans.
        """
        clients = clients or self.demo
        parent = self.port(self.network(clients)['id'], clients)
        sub_net = self.network(clients, subnet=False)
        subs = [self.port(sub_net['id'], clients) for _ in range(subports)]
        trunk = clients.trunks_client.create_trunk(
            name=data_utils.rand_name('functional'), port_id=parent['id'],
            sub_ports=[{'port_id': p['id'], 'segmentation_type': 'vlan',
                        'segmentation_id': 100 + i}
                       for i, p in enumerate(subs)])['trunk']
        self.addCleanup(tc_trunks.delete_trunk, clients.trunks_client,
                        trunk['id'])
        if tag:
            clients.tags_client.create_tag('trunks', trunk['id'], tag)
        return trunk, parent, subs

    def trunk_on(self, parent_id):
        """A new trunk, with one new subport, on an existing parent."""
        sub = self.port(self.network(subnet=False)['id'])
        trunk = self.demo.trunks_client.create_trunk(
            port_id=parent_id, sub_ports=[{
                'port_id': sub['id'], 'segmentation_type': 'vlan',
                'segmentation_id': 100}])['trunk']
        self.addCleanup(tc_trunks.delete_trunk, self.demo.trunks_client,
                        trunk['id'])
        return trunk

    def orphan(self, subports=2, clients=None, tag=None):
        """A trunk whose server was deleted: what this project is about.

        :returns: the footprint recorded before the delete
        """
        clients = clients or self.demo
        _, parent, _ = self.trunk(subports, clients, tag)
        server = self.boot(parent['id'], clients)
        footprint = cleanup.record_server(clients, server, 'user')
        self.delete_server(clients, server)
        return footprint

    def light_trunks(self, count, tag, subports=1):
        """``count`` trunks on one network, no server: quick to make."""
        net = self.network(subnet=False)
        made = []
        for _ in range(count):
            parent = self.port(net['id'])
            subs = [self.port(net['id']) for _ in range(subports)]
            trunk = self.demo.trunks_client.create_trunk(
                port_id=parent['id'], sub_ports=[
                    {'port_id': p['id'], 'segmentation_type': 'vlan',
                     'segmentation_id': 100 + i}
                    for i, p in enumerate(subs)])['trunk']
            self.addCleanup(tc_trunks.delete_trunk, self.demo.trunks_client,
                            trunk['id'])
            self.demo.tags_client.create_tag('trunks', trunk['id'], tag)
            made.append(trunk)
        return made

    def left_bound_by_nova(self, port_id, server_id=None):
        """As Nova leaves a port whose unbind was lost.

        The parent still names a server Nova has deleted: ``server_id``,
        else one whose rows are archived.
        """
        self.admin.ports_client.update_port(
            port_id, device_id=server_id or str(uuid.uuid4()),
            device_owner='compute:nova')
        # Neutron lets only an admin delete a compute: port (2025.1 on):
        # the owner's teardown needs it Nova's no more.
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        self.admin.ports_client.update_port, port_id,
                        device_id='', device_owner='')

    def application_credential(self, clients, name):
        """One of ``clients``' user, as an operator hands to a tool.

        :returns: Keystone's record of it, with its ``id`` and ``secret``.
        """
        credentials = clients.client(
            application_credentials_client.ApplicationCredentialsClient,
            'identity')
        user = clients.ports_client.auth_provider.session.get_user_id()
        made = credentials.create_application_credential(
            user, name=data_utils.rand_name(name))['application_credential']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        credentials.delete_application_credential, user,
                        made['id'])
        return made

    def watch_log(self, name=cloud_mod.WATCH):
        """What ``watch`` on the local cloud has logged."""
        with open(self.cloud.layout().processes.log(name)) as f:
            return f.read()

    def boot(self, port_id, clients=None, wire_timeout=60):
        """A server on ``port_id``, ACTIVE, and its trunk wired, if any.

        :param wire_timeout: seconds the agent may take to wire the trunk.
        """
        clients = clients or self.demo
        server = clients.servers_client.create_server(
            name=data_utils.rand_name('functional'),
            imageRef=self.cloud.state['image_id'],
            flavorRef=self.cloud.state['flavor_id'],
            networks=[{'port': port_id}])['server']
        self.addCleanup(self.delete_server, clients, server['id'])
        self.wait_for(lambda: clients.servers_client.show_server(
            server['id'])['server']['status'] == 'ACTIVE',
            'server %s ACTIVE' % server['id'])
        if self.cloud.layout().driver != 'fake':
            # The agent wires the trunk after Nova calls the server ACTIVE:
            # a before/after comparison must start from a settled state.
            for trunk in clients.trunks_client.list_trunks(
                    port_id=port_id)['trunks']:
                self.wait_for(lambda: self.wired(clients, trunk['id']),
                              'trunk %s wired' % trunk['id'], wire_timeout)
        return server['id']

    @staticmethod
    def wired(clients, trunk_id):
        trunk = clients.trunks_client.show_trunk(trunk_id)['trunk']
        ports = clients.ports_client.list_ports(
            id=[trunk['port_id']] + [s['port_id']
                                     for s in trunk['sub_ports']])['ports']
        return (trunk['status'] == 'ACTIVE' and
                all(p['status'] == 'ACTIVE' for p in ports))

    def delete_server(self, clients, server_id):
        test_utils.call_and_ignore_notfound_exc(
            clients.servers_client.delete_server, server_id)

        self.wait_for(lambda: self.server_gone(server_id, clients),
                      'server %s gone' % server_id)

    def server_gone(self, server_id, clients=None):
        try:
            (clients or self.demo).servers_client.show_server(server_id)
        except lib_exc.NotFound:
            return True
        return False

    def wait_for(self, predicate, what, timeout=60):
        if not test_utils.call_until_true(predicate, timeout, 0.5):
            self.fail('%s: not reached in %ss' % (what, timeout))

    def cli(self, *args, env=None, timeout=300):
        """``trunk-cleanup ARGS``: (exit code, stdout, stderr)."""
        if not hasattr(self, 'state_home'):
            # Each test's own journal of cleanups in progress.
            self.state_home = self.useFixture(fixtures.TempDir()).path
        env = dict(env or self.demo_env, XDG_STATE_HOME=self.state_home)
        command = [sys.executable, '-m',
                   'trunk_cleanup_tempest.cmd.trunk_cleanup']
        if os.environ.get(CLI_TREE):
            # The command of another source tree (an older release), to
            # show what these tests catch in it: ahead of this editable
            # install, whose finder would otherwise win.
            command = [sys.executable, '-c', OTHER_TREE % os.environ[
                CLI_TREE]]
        proc = subprocess.run(command + list(args), env=env,
                              capture_output=True, text=True,
                              timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    def tempest(self, *args):
        """``trunk-cleanup-localcloud tempest ARGS`` in a new workspace.

        :returns: (exit code, output, the tempest.conf it ran with)
        """
        workspace = self.useFixture(fixtures.TempDir()).path + '/ws'
        proc = subprocess.run(
            [sys.executable, '-m', 'trunk_cleanup_localcloud.cli',
             '--state-dir', self.cloud.state_dir, 'tempest', '--workspace',
             workspace] + list(args), capture_output=True, text=True,
            timeout=900)
        with open(os.path.join(workspace, 'etc', 'tempest.conf')) as f:
            conf = f.read()
        return proc.returncode, proc.stdout + proc.stderr, conf

    @staticmethod
    def failures(out):
        """The tracebacks of the tests that failed in tempest's output."""
        found = re.findall(r'Captured traceback:\n~+\n(.*?)(?:\n\n\S|\Z)',
                           out, re.S)
        return '\n'.join(found) or out[-5000:]

    def assertOneLineError(self, expected, code, out, err):
        self.assertEqual(2, code, out + err)
        self.assertEqual('', out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn(expected, err)

    def snapshot(self, clients=None):
        """The project's ports and trunks, for before/after comparisons."""
        clients = clients or self.demo
        ports = clients.ports_client.list_ports()['ports']
        trunks = clients.trunks_client.list_trunks()['trunks']
        # binding:host_id is admin-only under Neutron's default policy.
        return ({p['id']: (p['device_id'], p['device_owner'],
                           p.get('binding:host_id')) for p in ports},
                {t['id']: (t['status'], sorted(s['port_id'] for s in
                                               t['sub_ports']))
                 for t in trunks})
