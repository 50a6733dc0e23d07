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

"""The gate furniture: the Zuul jobs and the devstack tempest.conf snippet
name real options with valid values, and run only this plugin's tests."""

import configparser
import os
import re
import shlex
import subprocess

from oslo_config import cfg
from oslotest import base
import yaml

from trunk_cleanup_localcloud import releases
from trunk_cleanup_tempest.cmd import trunk_cleanup
from trunk_cleanup_tempest import config

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
A_TEST_ID = ('trunk_cleanup_tempest.tests.scenario.test_server_delete.'
             'ServerDeleteTrunkCleanupTest.'
             'test_delete_server_on_trunk_with_subports')


def check_options(testcase, values):
    """Set every value on a real ConfigOpts: unknown or invalid fails."""
    conf = cfg.ConfigOpts()
    # By name: a group object shares its options' state (an override)
    # with every ConfigOpts it is registered on.
    conf.register_opts(config.TrunkCleanupGroup,
                       group=config.trunk_cleanup_group.name)
    conf([])
    for key, value in values.items():
        testcase.assertIn(key, [o.name for o in config.TrunkCleanupGroup])
        conf.set_override(key, str(value), 'trunk_cleanup')
        getattr(conf.trunk_cleanup, key)


class TestZuul(base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.items = []
        folder = os.path.join(TOP, 'zuul.d')
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name)) as f:
                self.items += yaml.safe_load(f)
        self.jobs = {i['job']['name']: i['job'] for i in self.items
                     if 'job' in i}
        self.templates = {i['project-template']['name']:
                          i['project-template'] for i in self.items
                          if 'project-template' in i}

    def test_jobs(self):
        base_job = self.jobs['trunk-cleanup-tempest']
        self.assertEqual('devstack-tempest', base_job['parent'])
        self.assertEqual('trunk-cleanup-tempest',
                         self.jobs['trunk-cleanup-tempest-ovs']['parent'])
        variables = base_job['vars']
        self.assertTrue(re.match(variables['tempest_test_regex'], A_TEST_ID))
        self.assertFalse(re.match(variables['tempest_test_regex'],
                                  'tempest.api.network.test_ports'))
        self.assertTrue(variables['devstack_services']['neutron-trunk'])
        self.assertEqual(['trunk-cleanup-tempest'],
                         variables['tempest_plugins'])
        extensions = variables['devstack_localrc'][
            'NETWORK_API_EXTENSIONS'].split(',')
        self.assertIn('trunk', extensions)
        self.assertIn('trunk-details', extensions)
        self.assertEqual(sorted(set(extensions)), extensions)
        check_options(self, variables['devstack_local_conf']['test-config'][
            '$TEMPEST_CONFIG']['trunk_cleanup'])

    def test_ovs_variant_switches_the_driver(self):
        ovs = self.jobs['trunk-cleanup-tempest-ovs']['vars']
        self.assertEqual('openvswitch', ovs['devstack_localrc']['Q_AGENT'])
        self.assertTrue(ovs['devstack_services']['q-agt'])
        self.assertFalse(ovs['devstack_services']['ovn-controller'])

    def test_watch_variant_runs_the_devstack_plugin(self):
        job = self.jobs['trunk-cleanup-tempest-watch']
        self.assertEqual('trunk-cleanup-tempest', job['parent'])
        variables = job['vars']
        self.assertEqual('https://opendev.org/x/trunk-cleanup-tempest',
                         variables['devstack_plugins'][
                             'trunk-cleanup-tempest'])
        self.assertTrue(variables['devstack_services'][
            'trunk-cleanup-watch'])
        # local.conf's test-config is applied after the plugin's: it must
        # say the same.
        options = variables['devstack_local_conf']['test-config'][
            '$TEMPEST_CONFIG']['trunk_cleanup']
        self.assertEqual('removed', options['expected_after_server_delete'])
        check_options(self, options)

    def test_pipelines_name_defined_jobs(self):
        project = [i['project'] for i in self.items if 'project' in i][0]
        for pipeline in ('check', 'gate'):
            for job in project[pipeline]['jobs']:
                self.assertTrue(job in self.jobs or
                                job.startswith('openstack-tox-'), job)
        for template in self.templates.values():
            for job in template['check']['jobs']:
                self.assertIn(job, self.jobs)
        # The infra templates OpenStack projects run.
        for name in ('check-requirements', 'openstack-python3-jobs',
                     'publish-openstack-docs-pti',
                     'release-notes-jobs-python3'):
            self.assertIn(name, project['templates'])

    def test_each_maintained_branch_has_its_template(self):
        project = [i['project'] for i in self.items if 'project' in i][0]
        for release in releases.NAMES[:-1]:
            tag = release.replace('.', '-')
            name = 'trunk-cleanup-tempest-jobs-%s' % tag
            self.assertIn(name, project['templates'])
            jobs = self.templates[name]['check']['jobs']
            self.assertEqual(['trunk-cleanup-tempest-%s' % tag,
                              'trunk-cleanup-tempest-ovs-%s' % tag], jobs)
            for job in jobs:
                self.assertEqual('stable/%s' % release,
                                 self.jobs[job]['override-checkout'])


class TestDevstackSnippet(base.BaseTestCase):

    def test_snippet_options_are_real(self):
        parser = configparser.RawConfigParser()
        parser.read(os.path.join(TOP, 'etc',
                                 'tempest.conf.devstack-snippet'))
        values = dict(parser.items('trunk_cleanup'))
        self.assertIn('expected_after_server_delete', values)
        check_options(self, values)


class TestSystemdUnit(base.BaseTestCase):

    def test_unit_runs_a_valid_watch(self):
        # systemd's unit files are ini files with repeated keys allowed.
        parser = configparser.RawConfigParser(strict=False)
        parser.optionxform = str
        parser.read(os.path.join(TOP, 'etc', 'systemd',
                                 'trunk-cleanup-watch.service'))
        command = shlex.split(parser.get('Service', 'ExecStart'))
        self.assertEqual('trunk-cleanup', os.path.basename(command[0]))
        args = trunk_cleanup.build_parser(command[1:]).parse_args(
            command[1:])
        self.assertEqual('watch', args.command)
        # Nothing secret on the command line: the bus and the
        # credentials come from the config files.
        self.assertIsNone(args.transport_url)
        self.assertFalse([a for a in command if a.startswith('--os-')])
        self.assertEqual(['/etc/trunk-cleanup/watch.conf'],
                         args.config_file)
        # The journal is in the folder systemd makes writable for it.
        self.assertEqual(os.path.join(
            '/var/lib', parser.get('Service', 'StateDirectory')),
            args.state_dir)
        self.assertTrue(args.sweep_orphans)


# devstack's functions, as far as the plugin uses them: each says what it
# was asked to do.
DEVSTACK = r"""
DEST=/opt/stack DATA_DIR=/opt/stack/data STACK_USER=stack
REGION_NAME=RegionOne NOVA_CONF=/etc/nova/nova.conf
TEMPEST_CONFIG=/opt/stack/tempest/etc/tempest.conf
NOVA_NOTIFICATION_FORMAT=unversioned
ENABLED=" tempest $SERVICES "
function enable_service { ENABLED="$ENABLED $1 "; }
function is_service_enabled { [[ "$ENABLED" == *" $1 "* ]]; }
function echo_summary { :; }
function sudo { echo "sudo $*"; }
function chmod { echo "chmod $*"; }
function rm { echo "rm $*"; }
function iniget { echo "rabbit://stackrabbit:secret@10.0.0.1:5672/"; }
function get_python_exec_prefix { echo /opt/stack/data/venv/bin; }
function record { local IFS=$'\t'; echo "$*"; }
function setup_develop { record setup_develop "$@"; }
function create_service_user { record create_service_user "$@"; }
function configure_keystoneauth { record configure_keystoneauth "$@"; }
function iniset { record iniset "$@"; }
function run_process { record run_process "$@"; }
function stop_process { record stop_process "$@"; }
source devstack/settings
echo "format $NOVA_NOTIFICATION_FORMAT"
for phase in "stack install" "stack post-config" "stack extra" \
        "stack test-config" "unstack" "clean"; do
    echo "phase $phase"
    source devstack/plugin.sh $phase
done
"""


class TestDevstackPlugin(base.BaseTestCase):
    """devstack/plugin.sh, run against stand-ins of devstack's functions."""

    def setUp(self):
        super().setUp()
        self.calls = self.run_plugin('trunk-cleanup-watch')

    def run_plugin(self, services):
        run = subprocess.run(['bash', '-c', DEVSTACK], cwd=TOP, check=True,
                             capture_output=True, text=True,
                             env=dict(os.environ, SERVICES=services))
        # A function devstack does not have, a syntax error: all fail.
        self.assertEqual('', run.stderr)
        out = run.stdout
        calls = {}
        phase = None
        for line in out.splitlines():
            if line.startswith('phase '):
                phase = line[len('phase '):]
                continue
            calls.setdefault(phase, []).append(line.split('\t'))
        return calls

    def test_the_service_runs_only_when_enabled(self):
        calls = self.run_plugin('')
        self.assertEqual([['format unversioned']], calls[None])
        self.assertEqual({None}, set(calls))

    def test_nova_sends_versioned_notifications(self):
        self.assertIn(['format both'], self.calls[None])

    def test_the_config_file_holds_the_bus_and_credentials(self):
        calls = self.calls['stack post-config']
        self.assertIn(['create_service_user', 'trunk-cleanup', 'admin'],
                      calls)
        self.assertIn(['configure_keystoneauth', '/etc/trunk-cleanup/'
                       'watch.conf', 'trunk-cleanup', 'trunk_cleanup_watch'],
                      calls)
        self.assertIn(['iniset', '/etc/trunk-cleanup/watch.conf',
                       'oslo_messaging_notifications', 'transport_url',
                       'rabbit://stackrabbit:secret@10.0.0.1:5672/'], calls)
        # Every other option it sets is one watch reads.
        with open(os.path.join(TOP, 'etc',
                               'trunk-cleanup-watch.conf.sample')) as f:
            sample = f.read()
        for call in calls:
            if call[0] == 'iniset':
                section = sample.split('[%s]' % call[2], 1)[1]
                self.assertIn('#%s = ' % call[3],
                              section.split('\n[', 1)[0])

    def test_the_service_runs_a_valid_watch(self):
        [(_, name, command)] = [c for c in self.calls['stack extra']
                                if c[0] == 'run_process']
        self.assertEqual('trunk-cleanup-watch', name)
        words = shlex.split(command)
        self.assertEqual('/opt/stack/data/venv/bin/trunk-cleanup', words[0])
        args = trunk_cleanup.build_parser(words[1:]).parse_args(words[1:])
        self.assertEqual('watch', args.command)
        self.assertEqual(['/etc/trunk-cleanup/watch.conf'], args.config_file)
        self.assertEqual('/opt/stack/data/trunk-cleanup', args.state_dir)
        self.assertIsNone(args.transport_url)
        self.assertIn(['stop_process', 'trunk-cleanup-watch'],
                      self.calls['unstack'])

    def test_tempest_is_told_the_cloud_removes_trunks(self):
        [call] = self.calls['stack test-config']
        self.assertEqual(['iniset', '/opt/stack/tempest/etc/tempest.conf',
                          'trunk_cleanup', 'expected_after_server_delete',
                          'removed'], call)
        check_options(self, {call[3]: call[4]})
