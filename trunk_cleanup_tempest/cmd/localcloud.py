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

up, down, status, tempest-conf, openrc, and run (up, tempest run, down
whatever happens).
"""

import argparse
import os
import sys
import time

from trunk_cleanup_tempest.localcloud import cloud as cloud_mod
from trunk_cleanup_tempest.localcloud import process

DEFAULT_STATE = os.path.join('.localcloud')
DEFAULT_REGEX = r'^trunk_cleanup_tempest\.'


def build_parser():
    parser = argparse.ArgumentParser(
        prog='trunk-cleanup-localcloud',
        description='Run keystone, placement, glance, nova (fake virt '
                    'driver) and neutron (ML2, trunk plugin) from PyPI on '
                    'MariaDB and RabbitMQ, all on 127.0.0.1 under one '
                    'state folder.')
    parser.add_argument('--state-dir', default=DEFAULT_STATE,
                        help='where the cloud keeps everything '
                             '(default: %(default)s)')
    parser.add_argument('--venv', default=None,
                        help='the services\' virtualenv (default: one per '
                             'requirements file under ~/.cache)')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('up', help='start the cloud from nothing')
    sub.add_parser('down', help='stop every process "up" started')
    sub.add_parser('status', help='the processes and endpoints')
    conf = sub.add_parser('tempest-conf', help='write a tempest.conf')
    conf.add_argument('--output', required=True)
    conf.add_argument('--expected-after-server-delete', default='left',
                      choices=('left', 'removed'))
    rc = sub.add_parser('openrc', help='print OS_* variables')
    rc.add_argument('--user', choices=('demo', 'admin'), default='demo')
    run = sub.add_parser(
        'run', help='up, tempest run in a workspace, then down whatever '
                    'happens; exits with tempest\'s code')
    run.add_argument('--workspace', default=None,
                     help='tempest workspace (default: STATE/tempest)')
    run.add_argument('--regex', default=DEFAULT_REGEX)
    run.add_argument('--concurrency', type=int, default=2)
    run.add_argument('--expected-after-server-delete', default='left',
                     choices=('left', 'removed'))
    run.add_argument('tempest_args', nargs=argparse.REMAINDER,
                     help='more arguments for "tempest run", after --')
    return parser


def print_up(cloud, timings, out):
    out.write('\n%-10s %8s  %s\n' % ('service', 'seconds', 'endpoint'))
    urls = dict(cloud.endpoints())
    for name, seconds in timings:
        out.write('%-10s %8.1f  %s\n' % (name, seconds, urls.get(name, '')))
    out.write('local cloud up in %.1fs (state: %s)\n'
              % (cloud.state['up_seconds'], cloud.state_dir))


def main(argv=None, out=sys.stdout, err=sys.stderr):
    args = build_parser().parse_args(argv)
    cloud = cloud_mod.LocalCloud(args.state_dir, venv=args.venv, out=out)
    try:
        if args.command == 'up':
            print_up(cloud, cloud.up(), out)
        elif args.command == 'down':
            stopped = cloud.down()
            out.write('stopped %d process(es)\n' % len(stopped))
        elif args.command == 'status':
            rows = cloud.status()
            for name, pid, alive in rows:
                state = 'running' if alive else 'stopped'
                out.write('%-16s %8s  %s\n' % (name, pid, state))
            return 0 if rows and all(r[2] for r in rows) else 1
        elif args.command == 'tempest-conf':
            cloud.tempest_conf(args.output, args.expected_after_server_delete)
        elif args.command == 'openrc':
            out.write(cloud.openrc(args.user))
        elif args.command == 'run':
            return run(cloud, args, out)
    except process.CloudError as exc:
        err.write('trunk-cleanup-localcloud: %s\n' % exc)
        return 2
    return 0


def run(cloud, args, out):
    extra = [a for a in args.tempest_args if a != '--']
    workspace = args.workspace or os.path.join(cloud.state_dir, 'tempest')
    try:
        print_up(cloud, cloud.up(), out)
        t0 = time.monotonic()
        code = cloud_mod.run_tempest(
            cloud, workspace, args.regex, args.concurrency, extra,
            expected=args.expected_after_server_delete, out=out)
        out.write('tempest run took %.1fs (exit code %d)\n'
                  % (time.monotonic() - t0, code))
        return code
    finally:
        cloud.down()


if __name__ == '__main__':
    sys.exit(main())
