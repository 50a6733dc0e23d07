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

"""``trunk-cleanup-localcloud``: a real OpenStack control plane on loopback.

``up``/``down``/``status`` manage the cloud; ``tempest`` runs the plugin's
tests against it; ``run`` is up, tempest, down; ``with -- CMD`` runs any
command while the cloud is up (the functional tests) and brings it down
whatever happens.
"""

import argparse
import os
import subprocess
import sys
import time

from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import consumers
from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases
from trunk_cleanup_tempest import config as tc_config

DEFAULT_REGEX = r'^trunk_cleanup_tempest\.'
# Set for the command run by "with": where the running cloud lives.
STATE_VARIABLE = 'TRUNK_CLEANUP_LOCALCLOUD'
DRIVER_VARIABLE = 'TRUNK_CLEANUP_LOCALCLOUD_DRIVER'


def _override(text):
    try:
        name, value = text.split('=', 1)
        section, key = name.rsplit('.', 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            'expected SECTION.KEY=VALUE, got %r' % text)
    return section, key, value


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError('expected a positive integer, got '
                                         '%r' % text)
    return value


def _tempest_options(parser):
    parser.add_argument('--workspace', default=None,
                        help='tempest workspace (default: STATE/tempest)')
    parser.add_argument('--regex', default=DEFAULT_REGEX)
    parser.add_argument('--concurrency', type=int, default=2)
    _conf_options(parser)
    parser.add_argument('tempest_args', nargs=argparse.REMAINDER,
                        help='more arguments for "tempest run", after --')


def _conf_options(parser):
    parser.add_argument('--expected-after-server-delete', default=None,
                        choices=(tc_config.EXPECT_LEFT,
                                 tc_config.EXPECT_REMOVED),
                        help='what the tests expect of the cloud (default: '
                             'removed when watch runs, else left)')
    parser.add_argument('--set', dest='overrides', type=_override,
                        action='append', default=[],
                        metavar='SECTION.KEY=VALUE',
                        help='set a tempest.conf option (repeatable)')


def build_parser():
    parser = argparse.ArgumentParser(
        prog='trunk-cleanup-localcloud',
        description='Run keystone, placement, glance, nova (fake virt '
                    'driver) and neutron (ML2, trunk plugin) from PyPI on '
                    'MariaDB and RabbitMQ, all on 127.0.0.1 under one '
                    'state folder.')
    parser.add_argument('--state-dir',
                        default=os.environ.get(STATE_VARIABLE,
                                               '.localcloud'),
                        help='where the cloud keeps everything (default: '
                             '$%s or .localcloud)' % STATE_VARIABLE)
    parser.add_argument('--venv', default=None,
                        help='the services\' virtualenv (default: one per '
                             'requirements file under ~/.cache)')
    sub = parser.add_subparsers(dest='command', required=True)
    _up_options(sub.add_parser('up', help='start the cloud from nothing'))
    sub.add_parser('down', help='stop every process "up" started')
    sub.add_parser('status', help='its processes; exit 1 if any is down')
    conf = sub.add_parser('tempest-conf', help='write a tempest.conf')
    conf.add_argument('--output', required=True)
    _conf_options(conf)
    rc = sub.add_parser('openrc', help='print OS_* variables')
    rc.add_argument('--user', choices=('demo', 'admin'), default='demo')
    _tempest_options(sub.add_parser(
        'tempest', help='tempest run the plugin against the running cloud'))
    run = sub.add_parser(
        'run', help='up, tempest run, then down whatever happens; exits '
                    'with tempest\'s code')
    _tempest_options(run)
    _up_options(run)
    with_ = sub.add_parser(
        'with', help='up, run COMMAND (with $%s set), then down whatever '
                     'happens; exits with COMMAND\'s code' % STATE_VARIABLE)
    _up_options(with_)
    with_.add_argument('cmd', nargs=argparse.REMAINDER, metavar='COMMAND')
    return parser


def _up_options(parser):
    parser.add_argument('--with-watch', action='store_true',
                        help='also run "trunk-cleanup watch", so the cloud '
                             'removes the trunks of deleted servers')
    parser.add_argument('--driver', choices=layout_mod.DRIVERS,
                        default=os.environ.get(DRIVER_VARIABLE,
                                               layout_mod.DEFAULT_DRIVER),
                        help='Neutron\'s mechanism driver: ovs (ML2/OVS with '
                             'its agent on Open vSwitch), ovn (ML2/OVN), or '
                             'fake (ML2/OVS, nothing wired, no root '
                             'needed); default: $%s or %%(default)s'
                             % DRIVER_VARIABLE)
    parser.add_argument('--release', choices=releases.NAMES,
                        default=os.environ.get(releases.VARIABLE,
                                               releases.NEWEST),
                        help='the OpenStack release whose services run '
                             '(default: $%s or %%(default)s)'
                             % releases.VARIABLE)
    parser.add_argument('--neutron-workers', type=_positive, default=1,
                        help='Neutron API processes (default: %(default)s; '
                             'more run under gunicorn)')


def _after_dashes(words):
    """argparse.REMAINDER keeps the ``--`` that separates it: drop it."""
    return words[1:] if words[:1] == ['--'] else words


def print_up(cloud, timings, out):
    out.write('\n%-10s %8s  %s\n' % ('service', 'seconds', 'endpoint'))
    urls = dict(cloud.endpoints())
    for name, seconds in timings:
        out.write('%-10s %8.1f  %s\n' % (name, seconds, urls.get(name, '')))
    out.write('local cloud up in %.1fs (state: %s; release %s: %s)\n'
              % (cloud.state['up_seconds'], cloud.state_dir,
                 cloud.release.name, cloud.release.versions))
    out.flush()


def tempest(cloud, args, out):
    extra = _after_dashes(args.tempest_args)
    workspace = args.workspace or os.path.join(cloud.state_dir, 'tempest')
    t0 = time.monotonic()
    code = consumers.run_tempest(
        cloud, workspace, args.regex, args.concurrency, extra,
        expected=args.expected_after_server_delete,
        overrides=args.overrides, out=out,
        keep_times=args.regex == DEFAULT_REGEX and not extra)
    out.write('tempest run took %.1fs (exit code %d)\n'
              % (time.monotonic() - t0, code))
    return code


def with_cloud(cloud, out, action, args):
    """Up, ``action()``, and down whatever happens."""
    try:
        print_up(cloud, cloud.up(with_watch=args.with_watch,
                                 driver=args.driver, release=args.release,
                                 neutron_workers=args.neutron_workers), out)
        return action()
    finally:
        out.write('stopped %d process(es)\n' % len(cloud.down(quiet=True)))


def main(argv=None, out=sys.stdout, err=sys.stderr):
    args = build_parser().parse_args(argv)
    cloud = cloud_mod.LocalCloud(args.state_dir, venv=args.venv, out=out)
    try:
        if args.command == 'up':
            print_up(cloud, cloud.up(with_watch=args.with_watch,
                                     driver=args.driver,
                                     release=args.release,
                                     neutron_workers=args.neutron_workers),
                     out)
        elif args.command == 'down':
            out.write('stopped %d process(es)\n' % len(cloud.down()))
        elif args.command == 'status':
            rows = cloud.status()
            for name, pid, alive in rows:
                state = 'running' if alive else 'stopped'
                out.write('%-16s %8s  %s\n' % (name, pid, state))
            return 0 if rows and all(r[2] for r in rows) else 1
        elif args.command == 'tempest-conf':
            cloud.tempest_conf(args.output, args.expected_after_server_delete,
                               args.overrides)
        elif args.command == 'openrc':
            out.write(cloud.openrc(args.user))
        elif args.command == 'tempest':
            return tempest(cloud, args, out)
        elif args.command == 'run':
            return with_cloud(cloud, out, lambda: tempest(cloud, args, out),
                              args)
        elif args.command == 'with':
            command = _after_dashes(args.cmd)
            if not command:
                err.write('trunk-cleanup-localcloud: with: no COMMAND\n')
                return 2
            env = dict(os.environ, **{STATE_VARIABLE: cloud.state_dir})
            return with_cloud(cloud, out, lambda: subprocess.call(
                command, env=env), args)
    except process.CloudError as exc:
        err.write('trunk-cleanup-localcloud: %s\n' % exc)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
