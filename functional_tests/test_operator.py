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

"""The operator command, run as a process against the local cloud."""

import json
import os
import re
import uuid

import fixtures
from tempest.lib.common.utils import data_utils
from tempest.lib import exceptions as lib_exc

from functional_tests import base
from trunk_cleanup_localcloud import faultproxy


class TestOperatorCommand(base.FunctionalTestCase):

    def test_record_delete_cleanup(self):
        _, parent, _ = self.trunk()
        server = self.boot(parent['id'])
        code, saved, err = self.cli('record', '--server', server)
        self.assertEqual(0, code, err)
        self.delete_server(self.demo, server)
        path = self.create_tempfiles([('footprint', saved)], '.json')[0]
        code, out, err = self.cli('cleanup', '--footprint', path)
        self.assertEqual(1, code, err)
        self.assertIn('nothing was written', out)
        code, out, err = self.cli('cleanup', '--footprint', path, '--yes',
                                  '--delete-parent-port', '-f', 'json')
        self.assertEqual(0, code, err)
        self.assertTrue(json.loads(out)['clean'])
        code, out, _ = self.cli('inspect', '--footprint', path)
        self.assertEqual(0, code)

    def test_another_project_s_port_naming_a_gone_server_is_not_its(self):
        # device_id is free text any port's owner may set, and so is a
        # compute: owner: an admin cleaning a gone server across projects
        # takes the server's project from Nova, and leaves the trunk of
        # another project whose parent names the server too.
        tag = data_utils.rand_name('claims')
        mine, my_parent, _ = self.trunk()
        theirs, their_parent, _ = self.trunk(clients=self.admin, tag=tag)
        server = self.boot(my_parent['id'])
        self.delete_server(self.demo, server)
        for port in (my_parent, their_parent):
            # Nova's unbind of mine was lost; theirs only claims it.
            self.left_bound_by_nova(port['id'], server)
        code, out, err = self.cli(
            'cleanup', '--server', server, '--all-projects',
            '--unbind-stale', '--delete-parent-port', '--yes',
            env=self.admin_env)
        self.assertEqual(0, code, out + err)
        self.assertRaises(lib_exc.NotFound,
                          self.demo.trunks_client.show_trunk, mine['id'])
        # Nor is theirs an orphan of the server: Nova lists it deleted in
        # another project than the port's.
        code, out, err = self.cli(
            'cleanup', '--orphans', '--tag', tag, '--all-projects',
            '--unbind-stale', '--delete-parent-port', '--yes', '-f', 'json',
            env=self.admin_env)
        self.assertEqual(1, code, out + err)
        self.assertIn('not the port\'s project', out)
        kept = self.admin.trunks_client.show_trunk(theirs['id'])['trunk']
        self.assertEqual(2, len(kept['sub_ports']))
        self.assertEqual(server, self.admin.ports_client.show_port(
            their_parent['id'])['port']['device_id'])

    def test_a_server_nova_no_longer_lists_is_of_no_project(self):
        # Once Nova's rows are archived, nothing says which project the
        # server was of, and the admin's own project is no guess to delete
        # by: every trunk that names it is left, and the operator is told
        # to name the trunk. So too when Nova's list does not answer.
        mine, my_parent, _ = self.trunk()
        theirs, their_parent, _ = self.trunk(clients=self.admin)
        archived = str(uuid.uuid4())
        for port in (my_parent, their_parent):
            self.left_bound_by_nova(port['id'], archived)
        before = self.snapshot(self.admin)
        proxy = self.fault_proxy()
        # Nor is the caller's own project assumed when Nova lists it no
        # other project's servers (a member), nor on any other 403.
        for status in (None, 500, 403):
            proxy.program([faultproxy.rule(
                'status', r'/servers/detail', 'GET', times=0,
                status=status)] if status else ())
            for user, scope in (('admin', ('--all-projects',
                                           '--unbind-stale')),
                                ('demo', ())):
                code, out, err = self.cli(
                    'cleanup', '--server', archived, '--delete-parent-port',
                    '--yes', *scope, env=proxy.environ(user))
                self.assertOneLineError('an admin may clean its trunk',
                                        code, out, err)
                self.assertEqual(before, self.snapshot(self.admin))
        for trunk, clients in ((mine, self.demo), (theirs, self.admin)):
            kept = clients.trunks_client.show_trunk(trunk['id'])['trunk']
            self.assertEqual(2, len(kept['sub_ports']))

    def test_a_caller_nova_confines_proves_no_other_project_s_server_gone(
            self):
        # To a caller Nova's policy confines to its own project (a member;
        # or an admin in Neutron that is not one in Nova, played here by
        # the fault proxy), Nova answers "not found" for every server of
        # another project, alive or not: only its own project's list,
        # showing the server deleted, proves it gone.
        port = self.port(self.network(self.admin)['id'], self.admin)
        live = self.boot(port['id'], clients=self.admin)
        tag = data_utils.rand_name('claims')
        _, parent, _ = self.trunk(tag=tag)
        self.left_bound_by_nova(parent['id'], live)
        before = self.snapshot()
        proxy = self.fault_proxy()
        proxy.program([
            faultproxy.rule('status', r'/servers(/detail)?\?.*all_tenants',
                            'GET', times=0, status=403, body=json.dumps({
                                'forbidden': {'code': 403, 'message': (
                                    "Policy doesn't allow os_compute_api:"
                                    "servers:detail:get_all_tenants to be "
                                    "performed.")}})),
            faultproxy.rule('status', r'/servers/%s$' % live, 'GET',
                            times=0, status=404, body=json.dumps({
                                'itemNotFound': {'code': 404, 'message': (
                                    'Instance %s could not be found.'
                                    % live)}}))])
        for env, scope in ((proxy.environ('admin'), (
                '--all-projects', '--unbind-stale')), (self.demo_env, ())):
            code, out, err = self.cli('cleanup', '--orphans', '--tag', tag,
                                      '--delete-parent-port', '--yes',
                                      *scope, env=env)
            self.assertEqual(1, code, out + err)
            self.assertEqual(before, self.snapshot())
            self.assertIn('cannot be proven gone', out)

    def test_orphans_are_found_and_removed(self):
        tag = data_utils.rand_name('orphans')
        orphans = {self.orphan(tag=tag).trunk_ids[0] for _ in range(2)}
        live_trunk, live_parent, _ = self.trunk(tag=tag)
        self.boot(live_parent['id'])

        code, out, err = self.cli('orphans', '--tag', tag, '-f', 'json')
        self.assertEqual(1, code, err)
        # Nova unbound the user's parents: nothing in the cloud proves a
        # server used them, and the listing says so.
        self.assertEqual(dict.fromkeys(orphans, 'parent-unbound'),
                         {o['trunk_id']: o['class'] for o in json.loads(out)})

        # Not cleaned unless asked for, with an age floor.
        before = self.snapshot()
        code, out, err = self.cli('cleanup', '--orphans', '--tag', tag,
                                  '--yes')
        self.assertEqual(1, code, err)
        self.assertEqual(before, self.snapshot())
        self.assertEqual(2, len(re.findall(r'\| evidence +\| parent-unbound',
                                           out)), out)
        # A dry run changes nothing.
        code, out, err = self.cli('cleanup', '--orphans', '--tag', tag,
                                  '--include-unbound', '--older-than', '0s')
        self.assertEqual(1, code, err)
        self.assertEqual(before, self.snapshot())
        self.assertEqual(2, out.count('change(s) would be made'))

        code, out, err = self.cli('cleanup', '--orphans', '--tag', tag,
                                  '--include-unbound', '--older-than', '0s',
                                  '--delete-parent-port', '--yes', '-f',
                                  'json')
        self.assertEqual(0, code, err)
        reports = json.loads(out)
        self.assertEqual(orphans, {t for r in reports for t in r['trunk_ids']})
        self.assertTrue(all(r['clean'] for r in reports))
        after = self.snapshot()
        for trunk_id in orphans:
            self.assertNotIn(trunk_id, after[1])
        # The live server's trunk and ports are as they were.
        self.assertEqual(before[1][live_trunk['id']],
                         after[1][live_trunk['id']])
        self.assertEqual(before[0][live_parent['id']],
                         after[0][live_parent['id']])

        code, out, err = self.cli('orphans', '--tag', tag)
        self.assertEqual(0, code, err)
        self.assertIn('0 orphaned trunk(s)', out)

    def test_admin_needs_all_projects_for_other_projects(self):
        tag = data_utils.rand_name('projects')
        orphan = self.orphan(tag=tag).trunk_ids[0]
        code, out, _ = self.cli('orphans', '--tag', tag, '-f', 'json',
                                env=self.admin_env)
        self.assertEqual((0, []), (code, json.loads(out)))
        code, out, _ = self.cli('cleanup', '--orphans', '--tag', tag,
                                '--yes', env=self.admin_env)
        self.assertEqual(0, code)
        self.assertIn(orphan, self.snapshot()[1])
        code, out, err = self.cli('orphans', '--tag', tag, '--all-projects',
                                  '-f', 'json', env=self.admin_env)
        self.assertEqual(1, code, err)
        self.assertEqual([orphan], [o['trunk_id'] for o in json.loads(out)])


class TestAuthentication(base.FunctionalTestCase):
    """Every way the openstack CLI authenticates, and its output."""

    def application_credential_env(self):
        """``OS_*`` of one of demo's application credentials."""
        made = self.application_credential(self.demo, 'trunk-cleanup')
        return {'OS_AUTH_TYPE': 'v3applicationcredential',
                'OS_AUTH_URL': self.demo_env['OS_AUTH_URL'],
                'OS_APPLICATION_CREDENTIAL_ID': made['id'],
                'OS_APPLICATION_CREDENTIAL_SECRET': made['secret']}

    def test_application_credential(self):
        tag = data_utils.rand_name('appcred')
        footprint = self.orphan(tag=tag)
        env = self.application_credential_env()
        code, out, err = self.cli('orphans', '--tag', tag, '-f', 'value',
                                  '-c', 'trunk_id', '-c', 'class', env=env)
        self.assertEqual((1, '%s parent-unbound\n' % footprint.trunk_ids[0],
                          ''), (code, out, err))
        path = self.create_tempfiles([('fp', footprint.to_json())],
                                     '.json')[0]
        code, out, err = self.cli('cleanup', '--footprint', path, '--yes',
                                  '--delete-parent-port', env=env)
        self.assertEqual((0, ''), (code, err), out)
        self.assertIn('clean:', out)
        self.assertEqual([], self.demo.trunks_client.list_trunks(
            id=footprint.trunk_ids)['trunks'])

    def test_a_token_and_ids_instead_of_names(self):
        session = self.demo.ports_client.auth_provider.session
        env = {'OS_AUTH_URL': self.demo_env['OS_AUTH_URL'],
               'OS_AUTH_TYPE': 'v3token', 'OS_TOKEN': session.get_token(),
               'OS_PROJECT_ID': session.get_project_id(),
               'OS_REGION_NAME': self.demo_env['OS_REGION_NAME']}
        tag = data_utils.rand_name('token')
        trunk, _, _ = self.trunk(tag=tag)
        code, out, err = self.cli('orphans', '--tag', tag, '-f', 'value',
                                  '-c', 'trunk_id', env=env)
        self.assertEqual((1, trunk['id'] + '\n', ''), (code, out, err))
        env = dict(self.demo_env, OS_USER_DOMAIN_ID='default',
                   OS_PROJECT_ID=session.get_project_id())
        for name in ('OS_USER_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_NAME',
                     'OS_PROJECT_NAME'):
            env.pop(name)
        code, out, err = self.cli('orphans', '--tag', tag, '-f', 'value',
                                  '-c', 'trunk_id', env=env)
        self.assertEqual((1, trunk['id'] + '\n', ''), (code, out, err))

    def test_clouds_yaml_with_secure_yaml(self):
        folder = self.useFixture(fixtures.TempDir()).path
        env = self.demo_env
        clouds = os.path.join(folder, 'clouds.yaml')
        secure = os.path.join(folder, 'secure.yaml')
        with open(clouds, 'w') as f:
            f.write(json.dumps({'clouds': {'local': {
                'region_name': env['OS_REGION_NAME'], 'auth': {
                    'auth_url': env['OS_AUTH_URL'],
                    'username': env['OS_USERNAME'],
                    'project_name': env['OS_PROJECT_NAME'],
                    'user_domain_name': 'Default',
                    'project_domain_name': 'Default'}}}}))
        with open(secure, 'w') as f:
            f.write(json.dumps({'clouds': {'local': {'auth': {
                'password': env['OS_PASSWORD']}}}}))
        trunk, _, _ = self.trunk()
        code, out, err = self.cli(
            '--os-cloud', 'local', 'inspect', '--trunk', trunk['id'], '-f',
            'csv', '-c', 'kind', '-c', 'state',
            env={'OS_CLIENT_CONFIG_FILE': clouds,
                 'OS_CLIENT_SECURE_FILE': secure})
        self.assertEqual((1, ''), (code, err), out)
        self.assertEqual(['"kind","state"', '"trunk","present"'],
                         out.splitlines()[:2])

    def test_a_wrong_region_is_named(self):
        for env, args in (
                (self.demo_env, ('--os-region-name', 'Nowhere')),
                ({k: v for k, v in self.demo_env.items()
                  if k != 'OS_REGION_NAME'},
                 ('--os-region-name', 'Nowhere'))):
            code, out, err = self.cli(*args, 'orphans', env=env)
            self.assertEqual((2, ''), (code, out), err)
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertIn('Nowhere', err)

    def test_a_system_scoped_admin_is_told_what_to_use(self):
        """Neutron would show it no trunk at all: not "nothing left"."""
        env = {k: v for k, v in self.admin_env.items()
               if not k.startswith('OS_PROJECT_')}
        env['OS_SYSTEM_SCOPE'] = 'all'
        code, out, err = self.cli('orphans', '--all-projects', env=env)
        self.assertEqual((2, ''), (code, out), err)
        self.assertIn('the token is system-scoped', err)

    def test_fifty_trunks_with_eight_workers_and_a_quiet_stderr(self):
        tag = data_utils.rand_name('fifty')
        trunks = self.light_trunks(50, tag)
        for trunk in trunks:
            self.left_bound_by_nova(trunk['port_id'])
        code, out, err = self.cli(
            'cleanup', '--orphans', '--tag', tag, '--project',
            trunks[0]['project_id'], '--unbind-stale',
            '--delete-parent-port', '--yes', '--workers', '8',
            env=self.admin_env)
        self.assertEqual((0, ''), (code, err), out[-2000:])
        self.assertIn('50 of 50 footprint(s) clean', out)
        self.assertEqual([], self.admin.trunks_client.list_trunks(
            id=[t['id'] for t in trunks])['trunks'])


class TestBadInput(base.FunctionalTestCase):
    """Each bad input: exit code 2, one line that says why, no write."""

    def test_malformed_uuid(self):
        self.assertOneLineError("not a UUID: 'x'",
                                *self.cli('inspect', '--trunk', 'x'))

    def test_unknown_server(self):
        server = str(uuid.uuid4())
        self.assertOneLineError(
            'server %s not found' % server,
            *self.cli('cleanup', '--server', server, '--yes'))

    def test_unknown_trunk(self):
        trunk = str(uuid.uuid4())
        self.assertOneLineError('trunk %s not found' % trunk,
                                *self.cli('inspect', '--trunk', trunk))

    def test_wrong_credentials_never_print_the_password(self):
        env = dict(self.demo_env, OS_PASSWORD='wrong-password-x')
        code, out, err = self.cli('--debug', 'inspect', '--trunk',
                                  str(uuid.uuid4()), env=env)
        self.assertEqual(2, code)
        self.assertIn('refused the credentials', err.splitlines()[-1])
        self.assertNotIn('wrong-password-x', out + err)

    def test_unreachable_keystone(self):
        env = dict(self.demo_env, OS_AUTH_URL='http://127.0.0.1:9/v3')
        self.assertOneLineError('Keystone: Unable to establish connection',
                                *self.cli('orphans', env=env))

    def test_debug_logs_requests_but_never_the_token_or_password(self):
        trunk, _, _ = self.trunk()
        code, out, err = self.cli('--debug', 'inspect', '--trunk',
                                  trunk['id'])
        self.assertEqual(1, code, err)
        self.assertIn('GET', err)
        self.assertIn("'X-Auth-Token': '<omitted>'", err)
        self.assertNotIn(self.demo_env['OS_PASSWORD'], out + err)
        # Keystone's fernet tokens all start so.
        self.assertNotIn('gAAAAA', out + err)

    def test_missing_trunk_extension(self):
        proxy = self.fault_proxy()
        proxy.program([faultproxy.rule(
            'status', r'/v2\.0/extensions/trunk$', status=404,
            type='ExtensionNotFound', message='Extension trunk not found.')])
        self.assertOneLineError(
            'the Neutron "trunk" extension is not enabled',
            *self.cli('orphans', env=proxy.environ()))
