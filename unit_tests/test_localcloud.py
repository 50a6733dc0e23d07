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

import configparser
import io
import json
import os
from unittest import mock

import fixtures
from oslo_config import cfg
from oslotest import base

from trunk_cleanup_localcloud import cli
from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import consumers
from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases
from trunk_cleanup_localcloud import services
from trunk_cleanup_localcloud import virtualenvs
from trunk_cleanup_tempest import config as tc_config


class TestProcesses(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.owner = self.dir
        self.procs = process.Processes(os.path.join(self.dir, 'run'),
                                       os.path.join(self.dir, 'log'),
                                       self.owner)

    def test_stop_takes_the_whole_group_and_leaves_no_stray(self):
        # A parent with a child of its own, like RabbitMQ's wrapper.
        self.procs.start('svc', ['sh', '-c', 'sleep 60 & sleep 60'])
        self.assertTrue(self.procs.alive('svc'))
        process.wait_until('svc', 'sh', self.procs.log('svc'),
                           lambda: len(process.strays(self.owner)) == 3, 10)
        self.assertEqual(['svc'], self.procs.names())
        self.assertTrue(self.procs.stop('svc'))
        self.assertFalse(self.procs.alive('svc'))
        self.assertEqual([], process.strays(self.owner))
        self.assertEqual([], self.procs.names())
        self.assertFalse(self.procs.stop('svc'))

    def test_start_twice_is_refused(self):
        self.procs.start('svc', ['sleep', '60'])
        self.addCleanup(self.procs.stop, 'svc')
        exc = self.assertRaises(process.CloudError, self.procs.start, 'svc',
                                ['sleep', '60'])
        self.assertIn('already running', str(exc))

    def test_dead_process_fails_the_wait_at_once_with_its_log(self):
        self.procs.start('svc', ['sh', '-c', 'echo cannot bind >&2; exit 3'])
        exc = self.assertRaises(
            process.CloudError, process.wait_until, 'svc', ['svc-cmd'],
            self.procs.log('svc'), lambda: False, 30,
            processes=self.procs, name='svc')
        self.assertIn('svc failed: svc-cmd: the process exited', str(exc))
        self.assertIn('cannot bind', str(exc))

    def test_wait_deadline_names_the_last_error(self):
        def boom():
            raise ValueError('connection refused')
        exc = self.assertRaises(process.CloudError, process.wait_until,
                                'keystone', 'probe', None, boom, 0.2,
                                interval=0.05)
        self.assertIn('not ready after 0.2s (connection refused)', str(exc))

    def test_run_reports_exit_code_and_tail(self):
        log = os.path.join(self.dir, 'one.log')
        self.assertEqual('hello\n', process.run('db', ['echo', 'hello'], log))
        exc = self.assertRaises(process.CloudError, process.run, 'db',
                                ['sh', '-c', 'echo migration broke; exit 2'],
                                log)
        self.assertIn('db failed: sh -c echo migration broke; exit 2: exit '
                      'code 2', str(exc))
        self.assertIn('migration broke', str(exc))
        exc = self.assertRaises(process.CloudError, process.run, 'db',
                                ['/no/such/binary'], log)
        self.assertIn('No such file', str(exc))

    def test_run_timeout(self):
        log = os.path.join(self.dir, 'slow.log')
        exc = self.assertRaises(process.CloudError, process.run, 'db',
                                ['sleep', '5'], log, timeout=0.2)
        self.assertIn('still running after 0.2s', str(exc))

    def test_log_tail_of_missing_log(self):
        self.assertIn('no log', process.log_tail('/no/such/log'))


class TestConfig(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_write_ini_keeps_case_and_percent(self):
        path = os.path.join(self.dir, 'etc', 'x.conf')
        services.write_ini(path, {'DEFAULT': {'use_stderr': True},
                                  'database': {'connection': 'a%b'}})
        parser = configparser.RawConfigParser()
        parser.optionxform = str
        parser.read(path)
        self.assertEqual('true', parser.get('DEFAULT', 'use_stderr'))
        self.assertEqual('a%b', parser.get('database', 'connection'))

    def test_layout_urls(self):
        lay = layout_mod.Layout(self.dir, '/venv', ports={'keystone': 1234},
                                password='pw')
        self.assertEqual('http://127.0.0.1:1234/v3', lay.auth_url)
        self.assertEqual('/venv/bin/nova-manage', lay.bin('nova-manage'))
        self.assertIn('openstack:pw@127.0.0.1:13306/nova?',
                      lay.db('nova'))
        self.assertEqual('service', lay.authtoken('nova')['project_name'])

    def cloud_with_state(self):
        cloud = cloud_mod.LocalCloud(self.dir, venv='/venv',
                                     out=io.StringIO())
        with open(cloud.state_file, 'w') as f:
            json.dump({'password': 'pw', 'image_id': 'img',
                       'flavor_id': '42',
                       'network_extensions': ['trunk', 'router']}, f)
        return cloud

    def test_a_running_cloud_names_its_virtualenv(self):
        with open(os.path.join(self.dir, cloud_mod.STATE_FILE), 'w') as f:
            json.dump({'venv': '/where-it-runs'}, f)
        self.assertEqual('/where-it-runs',
                         cloud_mod.LocalCloud(self.dir).venv)
        self.assertEqual('/given',
                         cloud_mod.LocalCloud(self.dir, venv='/given').venv)
        os.unlink(os.path.join(self.dir, cloud_mod.STATE_FILE))
        self.assertEqual(virtualenvs.default_venv(),
                         cloud_mod.LocalCloud(self.dir).venv)

    def test_tempest_conf(self):
        cloud = self.cloud_with_state()
        path = os.path.join(self.dir, 'tempest.conf')
        cloud.tempest_conf(path, 'removed',
                           [('trunk_cleanup', 'cleanup_timeout', '5')])
        conf = configparser.RawConfigParser()
        conf.read(path)
        self.assertEqual('removed', conf.get('trunk_cleanup',
                                             'expected_after_server_delete'))
        self.assertEqual('5', conf.get('trunk_cleanup', 'cleanup_timeout'))
        self.assertEqual('trunk,router', conf.get('network-feature-enabled',
                                                  'api_extensions'))
        self.assertEqual('img', conf.get('compute', 'image_ref'))
        self.assertEqual('pw', conf.get('auth', 'admin_password'))
        self.assertEqual('http://127.0.0.1:5000/v3',
                         conf.get('identity', 'uri_v3'))

    def test_tempest_conf_writes_only_the_plugins_options(self):
        # The names are the plugin's: a renamed option must fail here, not
        # be ignored by tempest.
        cloud = self.cloud_with_state()
        path = os.path.join(self.dir, 'tempest.conf')
        cloud.tempest_conf(path)
        written = configparser.RawConfigParser()
        written.read(path)
        names = {opt.name for opt in tc_config.TrunkCleanupGroup}
        self.assertLessEqual(set(written.options('trunk_cleanup')) -
                             set(written.defaults()), names)
        conf = cfg.ConfigOpts()
        conf.register_opts(tc_config.TrunkCleanupGroup,
                           group=tc_config.trunk_cleanup_group)
        conf(['--config-file', path])
        self.assertEqual(tc_config.EXPECT_LEFT,
                         conf.trunk_cleanup.expected_after_server_delete)
        self.assertEqual(0.5, conf.trunk_cleanup.cleanup_interval)

    def test_tempest_conf_says_whether_the_driver_wires_trunks(self):
        for driver, wired in (('ovs', 'true'), ('ovn', 'true'),
                              ('fake', 'false')):
            cloud = self.cloud_with_state()
            cloud.state['driver'] = driver
            path = os.path.join(self.dir, 'tempest.conf')
            cloud.tempest_conf(path)
            conf = configparser.RawConfigParser()
            conf.read(path)
            self.assertEqual(wired, conf.get('trunk_cleanup', 'trunk_wired'),
                             driver)

    def test_services_in_start_order_per_driver(self):
        cloud = self.cloud_with_state()
        expected = {
            'fake': ['mysql', 'rabbitmq', 'keystone', 'placement', 'glance',
                     'neutron', 'nova'],
            'ovs': ['mysql', 'rabbitmq', 'keystone', 'placement', 'glance',
                    'ovs', 'neutron', 'nova'],
            'ovn': ['mysql', 'rabbitmq', 'keystone', 'placement', 'glance',
                    'ovs', 'ovn', 'neutron', 'nova'],
        }
        for driver, names in expected.items():
            cloud.state['driver'] = driver
            self.assertEqual(names, [s.name for s in
                                     cloud.services(cloud.layout())])
        # Stopped the other way round, the switch after Neutron.
        cloud.state['driver'] = 'ovn'
        order = cloud.process_names()
        self.assertLess(order.index('neutron-rpc'),
                        order.index('ovn-controller'))
        self.assertLess(order.index('ovn-controller'),
                        order.index('ovs-vswitchd'))

    def test_unknown_driver_is_refused(self):
        self.assertRaises(ValueError, layout_mod.Layout, self.dir, '/venv',
                          driver='linuxbridge')

    def neutron_config(self, driver, release=None):
        lay = layout_mod.Layout(self.dir, '/venv', driver=driver,
                                release=release, neutron_workers=2)
        etc = lay.etc('neutron')
        os.makedirs(etc, exist_ok=True)
        services.Neutron(lay).write_config(etc)
        files = {}
        for name in os.listdir(etc):
            conf = configparser.RawConfigParser()
            conf.read(os.path.join(etc, name))
            files[name] = conf
        return lay, files

    def test_neutron_on_ovs_runs_its_agent_on_the_userspace_datapath(self):
        lay, files = self.neutron_config('ovs')
        ml2 = files['ml2_conf.ini']
        self.assertEqual('openvswitch', ml2.get('ml2', 'mechanism_drivers'))
        agent = files['openvswitch_agent.ini']
        self.assertEqual('netdev', agent.get('ovs', 'datapath_type'))
        self.assertEqual(lay.switch_db, agent.get('ovs', 'ovsdb_connection'))
        self.assertEqual('127.0.0.1', agent.get('ovs', 'local_ip'))
        # Root already: no sudo, privsep started directly with the config.
        self.assertEqual('', agent.get('agent', 'root_helper'))
        helper = agent.get('privsep', 'helper_command')
        self.assertTrue(helper.startswith('/venv/bin/privsep-helper '))
        self.assertIn('openvswitch_agent.ini', helper)
        self.assertEqual(['neutron', 'neutron-rpc', 'neutron-ovs-agent'],
                         services.Neutron(lay).process_names)

    def test_neutron_on_ovn_talks_to_the_private_databases(self):
        lay, files = self.neutron_config('ovn')
        self.assertNotIn('openvswitch_agent.ini', files)
        ml2 = files['ml2_conf.ini']
        self.assertEqual('ovn', ml2.get('ml2', 'mechanism_drivers'))
        self.assertEqual('geneve', ml2.get('ml2', 'tenant_network_types'))
        self.assertEqual(lay.ovn_db('nb'), ml2.get('ovn', 'ovn_nb_connection'))
        self.assertEqual(lay.ovn_db('sb'), ml2.get('ovn', 'ovn_sb_connection'))
        self.assertEqual('ovn-router,trunk', files['neutron.conf'].get(
            'DEFAULT', 'service_plugins'))
        self.assertEqual(['neutron', 'neutron-rpc'],
                         services.Neutron(lay).process_names)

    def test_neutron_before_2026_2_is_told_its_api_workers(self):
        # Neutron 27 and 28 read [DEFAULT] api_workers (one per CPU by
        # default), not ASGI_WORKERS.
        for release, expected in (('2025.2', '2'), ('2026.1', '2'),
                                  ('2026.2', None)):
            _, files = self.neutron_config('ovn', release)
            self.assertEqual(expected, files['neutron.conf'].get(
                'DEFAULT', 'api_workers', fallback=None), release)

    def test_each_release_has_its_pins(self):
        for release in releases.RELEASES:
            with open(release.requirements) as f:
                pins = dict(line.strip().split('==') for line in f
                            if '==' in line and not line.startswith('#'))
            named = dict(part.split() for part in
                         release.versions.split(', '))
            named['openstack-placement'] = named.pop('placement')
            for service, version in named.items():
                self.assertEqual(version, pins[service], release.name)
        self.assertEqual(releases.get(releases.NEWEST).requirements,
                         virtualenvs.REQUIREMENTS)

    def test_release_comes_from_the_option_or_the_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(releases.VARIABLE))
        parser = cli.build_parser()
        self.assertEqual(releases.NEWEST, parser.parse_args(['up']).release)
        self.assertEqual('2025.2', parser.parse_args(
            ['run', '--release', '2025.2']).release)
        self.useFixture(fixtures.EnvironmentVariable(releases.VARIABLE,
                                                     '2026.1'))
        self.assertEqual('2026.1', cli.build_parser().parse_args(
            ['with']).release)
        self.assertEqual('2026.1', releases.get().name)
        self.assertRaises(ValueError, releases.get, '2024.1')

    def test_openrc(self):
        rc = self.cloud_with_state().openrc('demo')
        self.assertIn('export OS_USERNAME=demo\n', rc)
        self.assertIn('export OS_PROJECT_NAME=demo\n', rc)
        self.assertIn('export OS_AUTH_URL=http://127.0.0.1:5000/v3\n', rc)

    def test_up_keeps_only_the_last_tempest_durations(self):
        for name in (layout_mod.TEMPEST_TIMES, 'cloud.json'):
            open(os.path.join(self.dir, name), 'w').close()
        os.makedirs(os.path.join(self.dir, 'tempest', '.stestr'))
        services.clean_state(layout_mod.Layout(self.dir, '/venv'))
        self.assertEqual([layout_mod.TEMPEST_TIMES], os.listdir(self.dir))

    def test_a_new_workspace_loads_the_last_run_s_durations(self):
        cloud = self.cloud_with_state()
        times = os.path.join(self.dir, layout_mod.TEMPEST_TIMES)
        with open(times, 'wb') as f:
            f.write(b'last run')
        loaded = []

        def run(command, **kwargs):
            if command[1:] == ['load']:
                loaded.append(kwargs['stdin'].read())
            this = b'this run' if command[1:] == ['last', '--subunit'] \
                else b''
            return mock.Mock(stdout=this)
        with mock.patch.object(consumers.subprocess, 'run',
                               side_effect=run), \
                mock.patch.object(consumers.subprocess, 'call',
                                  return_value=0) as call, \
                mock.patch.object(cloud, 'tempest_conf'):
            self.assertEqual(0, consumers.run_tempest(
                cloud, os.path.join(self.dir, 'tempest'), 'x', 2,
                out=io.StringIO(), keep_times=True))
        self.assertEqual([b'last run'], loaded)
        self.assertEqual('run', call.call_args[0][0][1])
        with open(times, 'rb') as f:
            self.assertEqual(b'this run', f.read())
        # Not those of a part of the suite, or of a run that failed (it
        # may have been cut short): either would lose the rest.
        os.unlink(times)
        for code, keep in ((0, False), (1, True)):
            with mock.patch.object(consumers.subprocess, 'run',
                                   side_effect=run), \
                    mock.patch.object(consumers.subprocess, 'call',
                                      return_value=code), \
                    mock.patch.object(cloud, 'tempest_conf'):
                self.assertEqual(code, consumers.run_tempest(
                    cloud, os.path.join(self.dir, 'tempest'), 'x', 2,
                    out=io.StringIO(), keep_times=keep))
            self.assertFalse(os.path.exists(times))

    def test_down_of_a_cloud_that_never_started(self):
        cloud = cloud_mod.LocalCloud(os.path.join(self.dir, 'none'))
        self.assertEqual([], cloud.down())

    def test_default_venv_follows_the_requirements(self):
        self.useFixture(fixtures.EnvironmentVariable('XDG_CACHE_HOME',
                                                     self.dir))
        venv = virtualenvs.default_venv()
        self.assertTrue(venv.startswith(os.path.join(
            self.dir, 'trunk-cleanup-tempest', 'services-')))
        # Reused once installed: nothing is run.
        os.makedirs(venv)
        open(os.path.join(venv, '.installed'), 'w').close()
        self.assertFalse(virtualenvs.ensure_venv(venv, log=io.StringIO()))


class TestCommand(base.BaseTestCase):

    def test_set_needs_section_key_value(self):
        err = io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        exc = self.assertRaises(SystemExit, cli.main,
                                ['tempest-conf', '--output', 'x', '--set',
                                 'novalue'])
        self.assertEqual(2, exc.code)
        self.assertIn('expected SECTION.KEY=VALUE', err.getvalue())

    def test_override_parsing(self):
        self.assertEqual(('network-feature-enabled', 'api_extensions',
                          'a=b'),
                         cli._override('network-feature-enabled.'
                                       'api_extensions=a=b'))

    def test_dashes(self):
        self.assertEqual(['stestr', 'run'],
                         cli._after_dashes(['--', 'stestr', 'run']))
        self.assertEqual(['x'], cli._after_dashes(['x']))

    def test_driver_comes_from_the_option_or_the_environment(self):
        self.useFixture(fixtures.EnvironmentVariable(cli.DRIVER_VARIABLE))
        parser = cli.build_parser()
        self.assertEqual('ovs', parser.parse_args(['up']).driver)
        self.assertEqual('ovn', parser.parse_args(['up', '--driver',
                                                   'ovn']).driver)
        self.useFixture(fixtures.EnvironmentVariable(cli.DRIVER_VARIABLE,
                                                     'fake'))
        self.assertEqual('fake', cli.build_parser().parse_args(
            ['run']).driver)

    def test_status_of_a_stopped_cloud_exits_1(self):
        state = self.useFixture(fixtures.TempDir()).path
        out = io.StringIO()
        self.assertEqual(1, cli.main(['--state-dir', state, 'status'],
                                     out=out))
