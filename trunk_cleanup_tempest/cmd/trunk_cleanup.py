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

"""``trunk-cleanup``: inspect and clean what deleted servers left on trunks.

Argument parsing and output only; the work is the cleanup library's.
Exit codes: 0 nothing of the footprint is left, 1 something is left (it is
listed with the reason), 2 bad input or the cloud could not be reached.
"""

import argparse
import json
import logging
import sys

from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.services import clients as clients_mod

EXIT_CLEAN = 0
EXIT_LEFT = 1
EXIT_BAD_INPUT = 2


def _add_target(parser, with_footprint=True):
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--server', metavar='ID',
                       help='a server that still exists: its trunks')
    group.add_argument('--trunk', metavar='ID', help='a trunk')
    group.add_argument('--port', metavar='ID',
                       help='the parent port of a trunk')
    if with_footprint:
        group.add_argument('--footprint', metavar='FILE',
                           help='a footprint saved by "record" before the '
                                'server was deleted ("-" reads stdin)')
    parser.add_argument('--parent-created-by',
                        choices=cleanup.footprint.CREATED_BY,
                        help='who created the parent port, when known')


def build_parser():
    parser = argparse.ArgumentParser(
        prog='trunk-cleanup',
        description='Find and clean the Neutron trunks, subports and parent '
                    'ports that deleted servers left behind. Credentials '
                    'come from the OS_* variables (source an openrc file).')
    parser.add_argument('--debug', action='store_true',
                        help='log every API call')
    sub = parser.add_subparsers(dest='command', required=True)

    record = sub.add_parser(
        'record', help='print the trunk footprint of a live server as JSON, '
                       'to clean it up after the server is deleted')
    record.add_argument('--server', metavar='ID', required=True)
    record.add_argument('--parent-created-by',
                        choices=cleanup.footprint.CREATED_BY)

    inspect = sub.add_parser('inspect',
                             help='show what of a footprint is left')
    _add_target(inspect)
    inspect.add_argument('-f', '--format', choices=('table', 'json'),
                         default='table')

    clean = sub.add_parser(
        'cleanup', help='detach subports, delete the trunk, then delete the '
                        'ports; a dry run unless --yes is given')
    _add_target(clean)
    clean.add_argument('--yes', action='store_true',
                       help='really write; without it nothing is changed')
    clean.add_argument('--keep-ports', action='store_true',
                       help='delete the trunk but keep its ports')
    clean.add_argument('--all-projects', action='store_true',
                       help='act on resources of other projects (admin)')
    clean.add_argument('--timeout', type=_positive, default=60,
                       help='seconds each wait or retried write may take '
                            '(default: %(default)s)')
    clean.add_argument('--interval', type=_positive, default=1.0,
                       help='seconds between two polls (default: '
                            '%(default)s)')
    clean.add_argument('-f', '--format', choices=('table', 'json'),
                       default='table')
    return parser


def _positive(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError('not a number: %r' % text)
    if value <= 0:
        raise argparse.ArgumentTypeError('must be positive: %r' % text)
    return value


def _footprint(args, clients, stdin):
    created_by = getattr(args, 'parent_created_by', None)
    if getattr(args, 'footprint', None):
        if args.footprint == '-':
            return cleanup.Footprint.from_json(stdin.read())
        try:
            with open(args.footprint) as f:
                return cleanup.Footprint.from_json(f.read())
        except OSError as exc:
            raise cleanup.InvalidFootprint(str(exc))
    if args.server:
        return cleanup.record_server(clients, args.server, created_by)
    if args.trunk:
        return cleanup.record_trunk(
            clients, args.trunk,
            created_by or cleanup.footprint.CREATED_BY_UNKNOWN)
    return cleanup.record_parent_port(
        clients, args.port,
        created_by or cleanup.footprint.CREATED_BY_UNKNOWN)


def _print_leftovers(leftovers, fmt, out):
    if fmt == 'json':
        out.write(json.dumps(leftovers.to_dict(), indent=2, sort_keys=True)
                  + '\n')
        return
    rows = [('kind', 'id', 'state', 'status', 'device_id', 'binding_host')]
    server = [leftovers.server] if leftovers.server else []
    for res in server + list(leftovers.trunks.values()) + list(
            leftovers.ports.values()):
        rows.append((res.kind if not res.role else res.role, res.id,
                     'present' if res.present else 'gone',
                     res.status or '', res.device_id or '',
                     res.binding_host or ''))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write('  '.join(c.ljust(w) for c, w in zip(row, widths))
                  .rstrip() + '\n')
    out.write('clean: nothing of the footprint is left\n' if leftovers.clean
              else '%d resource(s) of the footprint left\n'
              % len(leftovers.present))


def run(args, clients, out, stdin):
    """Run one parsed command; returns the exit code."""
    if args.command == 'record':
        fp = cleanup.record_server(clients, args.server,
                                   args.parent_created_by)
        out.write(fp.to_json() + '\n')
        return EXIT_CLEAN
    fp = _footprint(args, clients, stdin)
    if args.command == 'inspect':
        leftovers = cleanup.inspect(clients, fp)
        _print_leftovers(leftovers, args.format, out)
        return EXIT_CLEAN if leftovers.clean else EXIT_LEFT
    report = cleanup.cleanup(clients, fp, dry_run=not args.yes,
                             keep_ports=args.keep_ports,
                             all_projects=args.all_projects,
                             timeout=args.timeout, interval=args.interval)
    out.write((report.to_json() if args.format == 'json' else str(report))
              + '\n')
    return EXIT_CLEAN if report.clean else EXIT_LEFT


def main(argv=None, clients_factory=clients_mod.from_environ,
         out=sys.stdout, err=sys.stderr, stdin=sys.stdin):
    parser = build_parser()
    args = parser.parse_args(argv)
    # tempest.lib omits tokens and passwords from what it logs.
    logging.basicConfig(stream=err, format='%(levelname)s %(message)s',
                        level=logging.DEBUG if args.debug else logging.WARNING)
    try:
        clients = clients_factory()
        return run(args, clients, out, stdin)
    except (cleanup.CleanupError, clients_mod.MissingCredentials) as exc:
        err.write('trunk-cleanup: error: %s\n' % exc)
        return EXIT_BAD_INPUT
    except lib_exc.Unauthorized:
        err.write('trunk-cleanup: error: the cloud refused the credentials '
                  '(HTTP 401)\n')
        return EXIT_BAD_INPUT
    except lib_exc.RestClientException as exc:
        err.write('trunk-cleanup: error: %s\n'
                  % cleanup.executor.error_text(exc))
        return EXIT_BAD_INPUT


if __name__ == '__main__':
    sys.exit(main())
