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

"""How the local cloud starts fast: stages at once, cached schemas, uv."""

import configparser
import io
import json
import os
import threading
from unittest import mock

import fixtures
from oslotest import base

from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import services
from trunk_cleanup_localcloud import stages as stages_mod
from trunk_cleanup_localcloud import virtualenvs


class TestRunStages(base.BaseTestCase):

    def run_stages(self, stages):
        reported, aborted = [], []
        timings = stages_mod.run_stages(
            stages, lambda name, seconds, note: reported.append(
                (name, note)), lambda: aborted.append(True))
        return timings, reported, aborted

    def test_a_stage_starts_only_after_those_it_waits_for(self):
        order = []

        def step(name):
            return lambda: order.append(name)
        stages = [('c', step('c'), None, ('a', 'b')),
                  ('a', step('a'), None, ()),
                  ('b', step('b'), None, ('a',))]
        timings, reported, aborted = self.run_stages(stages)
        self.assertEqual(['a', 'b', 'c'], order)
        self.assertEqual(['a', 'b', 'c'], [name for name, _ in timings])
        self.assertEqual([], aborted)

    def test_independent_stages_run_at_once(self):
        # Each waits for the other to have started: run one after the
        # other, they would time out.
        barrier = threading.Barrier(2, timeout=5)
        stages = [(name, lambda: barrier.wait() and None, None, ())
                  for name in ('x', 'y')]
        timings, _, _ = self.run_stages(stages)
        self.assertEqual({'x', 'y'}, {name for name, _ in timings})

    def test_a_note_is_reported(self):
        _, reported, _ = self.run_stages([('db', lambda: 'restored', None,
                                           ())])
        self.assertEqual([('db', 'restored')], reported)

    def test_a_failure_aborts_once_and_what_waits_for_it_never_runs(self):
        ran = []
        log = self.useFixture(fixtures.TempDir()).path + '/x.log'
        open(log, 'w').write('the reason\n')

        def fail():
            raise ValueError('boom')
        stages = [('bad', fail, log, ()),
                  ('also-bad', fail, None, ()),
                  ('after', lambda: ran.append('after'), None, ('bad',))]
        reported, aborted = [], []
        exc = self.assertRaises(
            process.CloudError, stages_mod.run_stages, stages,
            lambda *a: reported.append(a), lambda: aborted.append(True))
        self.assertEqual([], ran)
        self.assertEqual([True], aborted)
        self.assertIn('failed: up: ValueError: boom', str(exc))

    def test_a_stage_waiting_for_one_that_does_not_exist_is_an_error(self):
        exc = self.assertRaises(
            process.CloudError, self.run_stages,
            [('a', lambda: None, None, ('nothing',))])
        self.assertIn('never runs: a', str(exc))


class TestStages(base.BaseTestCase):

    def stages(self, driver, with_watch=False):
        folder = self.useFixture(fixtures.TempDir()).path
        cloud = cloud_mod.LocalCloud(folder, venv='/venv',
                                     out=io.StringIO())
        with open(cloud.state_file, 'w') as f:
            json.dump({'driver': driver}, f)
        return {name: after for name, _, _, after in
                cloud.stages(cloud.layout(), with_watch)}

    def test_every_stage_waits_only_for_stages_that_exist(self):
        for driver in layout_mod.DRIVERS:
            for with_watch in (False, True):
                stages = self.stages(driver, with_watch)
                for name, after in stages.items():
                    self.assertLessEqual(set(after), set(stages),
                                         (driver, name))

    def test_what_the_start_order_still_needs(self):
        stages = self.stages('ovn', with_watch=True)

        def before(first, then):
            # ``then`` waits for ``first``, directly or through others.
            seen, todo = set(), list(stages[then])
            while todo:
                name = todo.pop()
                if name == first:
                    return True
                if name not in seen:
                    seen.add(name)
                    todo.extend(stages[name])
            return False
        for first, then in [('databases', 'keystone'), ('keys', 'keystone'),
                            ('mysql', 'databases'), ('keystone', 'identity'),
                            ('identity', 'compute'),
                            ('placement', 'compute'), ('ovn', 'compute'),
                            ('ovn', 'neutron'), ('rabbitmq', 'nova'),
                            ('nova', 'resources'), ('compute', 'resources'),
                            ('resources', 'watch')]:
            self.assertTrue(before(first, then), (first, then))
        # What needs neither keystone nor the database starts at once.
        self.assertEqual((), stages['keys'])
        self.assertEqual((), stages['rabbitmq'])
        self.assertFalse(before('keystone', 'neutron'))
        # Nova's API needs no user to start; what logs in to placement as
        # it starts (conductor, scheduler, compute) starts with compute.
        self.assertFalse(before('keystone', 'nova'))
        self.assertTrue(before('identity', 'compute'))


class TestDatabases(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.venv = os.path.join(self.dir, 'venv')
        self.site = os.path.join(self.venv, 'lib', 'python3.11',
                                 'site-packages')
        for name in ('nova-34.0.0', 'neutron-29.0.0'):
            os.makedirs(os.path.join(self.site, name + '.dist-info'))
        self.cloud = cloud_mod.LocalCloud(os.path.join(self.dir, 'state'),
                                          venv=self.venv, out=io.StringIO())
        os.makedirs(self.cloud.state_dir)
        self.layout = self.cloud.layout()
        self.migrated = []
        for cls in (services.Keystone, services.Placement, services.Glance,
                    services.Neutron, services.Nova):
            self.useFixture(fixtures.MockPatchObject(
                cls, 'migrate', lambda s: self.migrated.append(s.name)))
        self.db = mock.Mock()
        self.useFixture(fixtures.MockPatchObject(
            services, 'MariaDB', return_value=self.db))

    def dump(self):
        return virtualenvs.schema_dump(self.venv)[0]

    def test_first_migrated_then_dumped_into_the_virtualenv(self):
        note = self.cloud._databases(self.layout)
        self.db.create_databases.assert_called_once_with()
        self.assertEqual({'keystone', 'placement', 'glance', 'neutron',
                          'nova'}, set(self.migrated))
        self.assertTrue(self.dump().startswith(self.venv + os.sep))
        self.db.dump.assert_called_once_with(self.dump())
        self.db.restore.assert_not_called()
        self.assertIn('migrated', note)

    def test_then_restored_and_nothing_migrated(self):
        open(self.dump(), 'w').close()
        note = self.cloud._databases(self.layout)
        self.db.restore.assert_called_once_with(self.dump())
        self.db.create_databases.assert_not_called()
        self.assertEqual([], self.migrated)
        self.assertIn('restored', note)

    def test_other_packages_are_another_dump(self):
        before = self.dump()
        os.makedirs(os.path.join(self.site, 'nova-34.0.1.dist-info'))
        self.assertNotEqual(before, self.dump())

    def test_an_editable_install_is_never_cached(self):
        info = os.path.join(self.site, 'neutron-29.0.0.dist-info')
        with open(os.path.join(info, 'direct_url.json'), 'w') as f:
            json.dump({'url': 'file:///src/neutron',
                       'dir_info': {'editable': True}}, f)
        note = self.cloud._databases(self.layout)
        self.assertEqual(5, len(self.migrated))
        self.db.dump.assert_not_called()
        self.assertIn('not cached: neutron-29.0.0 is installed editable',
                      note)

    def test_a_dump_that_fails_to_restore_is_made_again(self):
        open(self.dump(), 'w').close()
        self.db.restore.side_effect = process.CloudError(
            'mysql', ['mariadb'], detail='exit code 1')
        note = self.cloud._databases(self.layout)
        self.db.drop_databases.assert_called_once_with()
        self.assertEqual(5, len(self.migrated))
        self.db.dump.assert_called_once_with(self.dump())
        self.assertIn('the dump failed', note)

    def test_a_dump_that_cannot_be_written_is_said_and_not_fatal(self):
        self.db.dump.side_effect = OSError('read-only file system')
        note = self.cloud._databases(self.layout)
        self.assertIn('not cached: read-only file system', note)


class TestNovaMigrate(base.BaseTestCase):

    def test_the_cell_mappings_hold_no_password(self):
        # So one dump serves clouds with other passwords and ports.
        folder = self.useFixture(fixtures.TempDir()).path
        layout = layout_mod.Layout(folder, '/venv', password='the-password')
        run = self.useFixture(fixtures.MockPatchObject(
            services.Service, 'run')).mock
        self.useFixture(fixtures.MockPatchObject(
            services.Service, 'copy_from_venv',
            return_value=layout.etc('nova')))
        services.Nova(layout).migrate()
        commands = [' '.join(c.args) for c in run.call_args_list]
        self.assertTrue(any('create_cell' in c for c in commands))
        self.assertTrue(any('map_cell0' in c for c in commands))
        for command in commands:
            self.assertNotIn('the-password', command)
            self.assertNotIn(str(layout.ports['mysql']), command)
            self.assertNotIn(str(layout.ports['amqp']), command)


class TestNovaConfig(base.BaseTestCase):

    def test_one_scheduler_and_conductor_worker(self):
        # Their workers, forked after the master opened a connection to
        # placement, inherit it: two would share it.
        folder = self.useFixture(fixtures.TempDir()).path
        layout = layout_mod.Layout(folder, '/venv')
        self.useFixture(fixtures.MockPatchObject(
            services.Service, 'copy_from_venv',
            return_value=layout.etc('nova')))
        os.makedirs(layout.etc('nova'))
        services.Nova(layout).configure()
        conf = configparser.RawConfigParser()
        conf.read(layout.etc('nova', 'nova.conf'))
        self.assertEqual('1', conf.get('scheduler', 'workers'))
        self.assertEqual('1', conf.get('conductor', 'workers'))


class TestVirtualenv(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.run = self.useFixture(fixtures.MockPatchObject(
            process, 'run')).mock
        # What the commands would make.
        self.run.side_effect = lambda *a, **k: os.makedirs(
            os.path.join(self.dir, 'venv'), exist_ok=True)

    def test_made_with_uv_when_there_is_one(self):
        self.useFixture(fixtures.MockPatchObject(virtualenvs, '_uv',
                                                 return_value='/bin/uv'))
        venv = os.path.join(self.dir, 'venv')
        self.assertTrue(virtualenvs.ensure_venv(venv, log=io.StringIO()))
        first, second = [c.args[1] for c in self.run.call_args_list]
        self.assertEqual(['/bin/uv', 'venv'], first[:2])
        self.assertIn('--seed', first)  # pip and setuptools, as venv gives
        self.assertEqual(['/bin/uv', 'pip', 'install'], second[:3])
        self.assertTrue(os.path.exists(os.path.join(venv, '.installed')))

    def test_uv_starts_over_from_an_install_cut_short(self):
        # uv refuses a folder that holds a virtualenv already.
        self.useFixture(fixtures.MockPatchObject(virtualenvs, '_uv',
                                                 return_value='/bin/uv'))
        venv = os.path.join(self.dir, 'venv')
        os.makedirs(os.path.join(venv, 'bin'))
        open(os.path.join(venv, 'pyvenv.cfg'), 'w').close()
        seen = []
        self.run.side_effect = lambda *a, **k: seen.append(
            os.path.exists(os.path.join(venv, 'pyvenv.cfg'))) or \
            os.makedirs(venv, exist_ok=True)
        virtualenvs.ensure_venv(venv, log=io.StringIO())
        self.assertFalse(seen[0])

    def test_uv_is_given_pip_s_index(self):
        self.useFixture(fixtures.MockPatchObject(virtualenvs, '_uv',
                                                 return_value='/bin/uv'))
        self.useFixture(fixtures.EnvironmentVariable(
            'PIP_INDEX_URL', 'https://mirror.example/simple'))
        self.useFixture(fixtures.EnvironmentVariable('UV_INDEX_URL'))
        virtualenvs.ensure_venv(os.path.join(self.dir, 'venv'),
                                log=io.StringIO())
        env = self.run.call_args.kwargs['env']
        self.assertEqual('https://mirror.example/simple',
                         env['UV_INDEX_URL'])

    def test_made_with_pip_without_uv(self):
        self.useFixture(fixtures.MockPatchObject(virtualenvs, '_uv',
                                                 return_value=None))
        venv = os.path.join(self.dir, 'venv')
        virtualenvs.ensure_venv(venv, log=io.StringIO())
        first, second = [c.args[1] for c in self.run.call_args_list]
        self.assertEqual(['-m', 'venv'], first[1:3])
        self.assertEqual(os.path.join(venv, 'bin', 'pip'), second[0])


class TestDown(base.BaseTestCase):

    def test_the_services_stop_together_before_what_they_stand_on(self):
        folder = self.useFixture(fixtures.TempDir()).path
        cloud = cloud_mod.LocalCloud(folder, venv='/venv', out=io.StringIO())
        with open(cloud.state_file, 'w') as f:
            json.dump({'driver': 'ovn'}, f)
        procs = cloud.layout().processes
        names = cloud.process_names() + ['faultproxy']
        for name in names:
            with open(procs._pid_file(name), 'w') as f:
                f.write('1\n')
        stopped, lock = [], threading.Lock()
        graces = set()

        def stop(self, name, timeout=20):
            with lock:
                stopped.append(name)
                graces.add(timeout)
            return True
        self.useFixture(fixtures.MockPatchObject(
            process.Processes, 'stop', stop))
        self.useFixture(fixtures.MockPatchObject(process, 'strays',
                                                 return_value=[]))
        self.assertEqual(set(names), set(cloud.down(quiet=True)))
        under = {'mysql', 'rabbitmq', 'epmd', 'ovsdb-server', 'ovs-vswitchd',
                 'ovn-nb', 'ovn-sb', 'ovn-northd', 'ovn-controller'}
        first = [n for n in stopped if n not in under]
        self.assertEqual(set(first), set(stopped[:len(first)]))
        self.assertIn('faultproxy', first)
        self.assertEqual({cloud_mod.DOWN_GRACE}, graces)
