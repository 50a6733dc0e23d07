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

"""``trunk-cleanup``: find and clean what deleted servers left on trunks.

Argument parsing and output only; the work is the cleanup library's (and
the watcher's, for ``watch``). Exit codes: 0 nothing is left, 1 something
is left (listed with the reason), 2 bad input or the cloud could not be
reached, always with a one-line reason.
"""

import argparse
import logging
import os
import re
import sys
import threading
import uuid

from oslo_config import cfg
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest import clients as clients_mod
from trunk_cleanup_tempest.cmd import output

LOG = logging.getLogger(__name__)

EXIT_CLEAN = 0
EXIT_LEFT = 1
EXIT_BAD_INPUT = 2
# The command's own journal, beside (not shared with) watch's.
JOURNAL = 'cleanup'
DEFAULT_STATE_DIR = os.path.join(
    os.environ.get('XDG_STATE_HOME', os.path.expanduser('~/.local/state')),
    'trunk-cleanup')


class BadInput(Exception):
    """Input found wrong after parsing (e.g. the cloud lacks trunks)."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line and exit code 2."""

    def error(self, message):
        self.exit(EXIT_BAD_INPUT, '%s: error: %s\n' % (self.prog, message))


def _uuid(text):
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        raise argparse.ArgumentTypeError('not a UUID: %r' % text)


def _age(text):
    try:
        return cleanup.parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc))


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError('not a number: %r' % text)
        if value <= 0:
            raise argparse.ArgumentTypeError('must be positive: %r' % text)
        return value
    return parse


def _add_target(parser, orphans=False):
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--server', metavar='ID', type=_uuid,
                       help='a server (its trunks), deleted or not')
    group.add_argument('--trunk', metavar='ID', type=_uuid, help='a trunk')
    group.add_argument('--port', metavar='ID', type=_uuid,
                       help='the parent port of a trunk')
    group.add_argument('--footprint', metavar='FILE',
                       help='a footprint saved by "record" before the server '
                            'was deleted ("-" reads stdin)')
    if orphans:
        group.add_argument('--orphans', action='store_true',
                           help='every orphaned trunk (see "orphans")')
    parser.add_argument('--parent-created-by', choices=cleanup.CREATED_BY,
                        help='who created the parent port, when known')


def _add_orphan_filters(parser):
    parser.add_argument('--all-projects', action='store_true',
                        help='every project (admin); without it, only the '
                             'credentials\' own project, or --project')
    parser.add_argument('--project', metavar='ID',
                        help='only this project\'s resources (admin)')
    parser.add_argument('--older-than', metavar='AGE', type=_age,
                        help='only trunks that, with their parent port, '
                             'have not changed for AGE (30s, 15m, 1h, 2d)')
    parser.add_argument('--tag', action='append', default=[],
                        help='only trunks with this tag (repeatable)')
    parser.add_argument('--state-dir', default=None,
                        help='the journal of cleanups in progress: what a '
                             'run that did not finish left is listed and '
                             'cleaned from it (default: %s)'
                             % os.path.join(DEFAULT_STATE_DIR, JOURNAL))


def build_parser(argv=()):
    """The parser; ``argv`` tells which auth type's options to offer."""
    parser = Parser(
        prog='trunk-cleanup',
        description='Find and clean the Neutron trunks, subports and parent '
                    'ports that deleted servers left behind. Credentials '
                    'as for the openstack CLI: --os-cloud/OS_CLOUD '
                    '(clouds.yaml, secure.yaml), the OS_* variables, or '
                    'the --os-* options.')
    clients_mod.register_arguments(parser, list(argv))
    parser.add_argument('--debug', action='store_true',
                        help='log every API call (tokens and passwords '
                             'are never logged)')
    sub = parser.add_subparsers(dest='command', required=True,
                                parser_class=Parser)

    record = sub.add_parser(
        'record', help='print the trunk footprint of a live server as JSON, '
                       'to clean it after the server is deleted')
    record.add_argument('--server', metavar='ID', type=_uuid, required=True)
    record.add_argument('--parent-created-by', choices=cleanup.CREATED_BY)

    inspect = sub.add_parser('inspect',
                             help='show what of a trunk footprint is left')
    _add_target(inspect)
    output.add_arguments(inspect)

    orphans = sub.add_parser(
        'orphans', help='trunks whose parent port is unbound or names a '
                        'server that is not alive, each with its class '
                        '(server-deleted, parent-unbound, undecidable) and '
                        'the evidence for it')
    _add_orphan_filters(orphans)
    output.add_arguments(orphans)

    clean = sub.add_parser(
        'cleanup', help='detach subports, delete the trunk, then the '
                        'ports; a dry run unless --yes is given')
    _add_target(clean, orphans=True)
    _add_orphan_filters(clean)
    clean.add_argument('--yes', action='store_true',
                       help='really write; without it nothing is changed')
    clean.add_argument('--keep-ports', action='store_true',
                       help='delete the trunk but keep its ports')
    clean.add_argument('--delete-parent-port', action='store_true',
                       help='delete the parent port too when Nova did not '
                            'create it (by default it is kept, as Nova '
                            'keeps it)')
    clean.add_argument('--include-unbound', action='store_true',
                       help='also clean trunks whose parent port is '
                            'unbound though no deleted server is proven to '
                            'have used them (they may be new); needs '
                            '--older-than')
    clean.add_argument('--unbind-stale', action='store_true',
                       help='unbind a parent port that still names a gone '
                            'server instead of waiting for Nova (admin)')
    clean.add_argument('--workers', type=_positive(int), default=8,
                       help='trunks cleaned at once (default: %(default)s)')
    clean.add_argument('--timeout', type=_positive(float), default=60,
                       help='seconds each wait or retried write may take '
                            '(default: %(default)s)')
    clean.add_argument('--interval', type=_positive(float), default=1.0,
                       help='first wait between two tries; it doubles '
                            '(default: %(default)s)')
    output.add_arguments(clean)

    watch = sub.add_parser(
        'watch', help='clean the trunk of each server Nova deletes, from '
                      'its notifications (and, if asked, sweep orphans)')
    watch.add_argument('--config-file', action='append', default=[],
                       help='oslo.config file(s): the bus ([DEFAULT] '
                            'transport_url, e.g. nova.conf) and the '
                            'service\'s own credentials ([%s] auth_type, '
                            'auth_url, application_credential_id...; '
                            'without them, the OS_* variables)'
                            % clients_mod.CONF_GROUP)
    watch.add_argument('--config-dir', action='append', default=[],
                       help='folder(s) of *.conf files, read after the '
                            'config files')
    watch.add_argument('--transport-url',
                       help='the bus, if no config file names it (it '
                            'shows its password in "ps": prefer a config '
                            'file)')
    watch.add_argument('--exchange', default='nova',
                       help='the exchange Nova notifies on (default: '
                            '%(default)s)')
    watch.add_argument('--state-dir', default=DEFAULT_STATE_DIR,
                       help='where the journal of cleanups in progress is '
                            'kept, so a restart resumes them (default: '
                            '%(default)s)')
    watch.add_argument('--sweep-interval', type=_positive(float),
                       default=300, help='seconds between retries of the '
                                         'journal\'s unfinished cleanups '
                                         '(and orphan sweeps, if asked '
                                         'for; default: %(default)s)')
    watch.add_argument('--sweep-orphans', action='store_true',
                       help='also clean, every --sweep-interval, the '
                            'orphans of every project whose server Nova '
                            'proves deleted (off by default)')
    watch.add_argument('--sweep-older-than', type=_age, default='1h',
                       metavar='AGE',
                       help='sweep only trunks not updated for AGE, so a '
                            'trunk waiting for its server is left alone '
                            '(default: 1h)')
    watch.add_argument('--max-wait', type=_age, default='1h',
                       metavar='AGE',
                       help='clean a deleted server\'s trunk only within AGE '
                            'of its delete (after that its parent port may '
                            'carry the user\'s next server); a delete Nova '
                            'has not finished by then is given up '
                            '(default: 1h)')
    watch.add_argument('--workers', type=_positive(int), default=8)
    watch.add_argument('--timeout', type=_positive(float), default=60)
    watch.add_argument('--interval', type=_positive(float), default=1.0)
    return parser


# -- footprints ----------------------------------------------------------

def _read_footprint(path, stdin):
    if path == '-':
        return cleanup.Footprint.from_json(stdin.read())
    try:
        with open(path) as f:
            return cleanup.Footprint.from_json(f.read())
    except OSError as exc:
        raise cleanup.InvalidFootprint(str(exc))


def _footprint(args, clients, stdin):
    if args.footprint:
        return _read_footprint(args.footprint, stdin)
    # A server that is gone is found by the ports that still name it, in
    # the project Nova proves; --project must agree with it.
    return cleanup.record(clients, server_id=args.server,
                          trunk_id=args.trunk, port_id=args.port,
                          parent_created_by=args.parent_created_by,
                          project_id=getattr(args, 'project', None))


def _require_trunks(clients):
    try:
        clients.extensions_client.show_extension('trunk')
    except lib_exc.NotFound:
        raise BadInput('the Neutron "trunk" extension is not enabled on '
                       'this cloud')


# -- output --------------------------------------------------------------

LEFTOVER_COLUMNS = ('kind', 'id', 'state', 'status', 'device_id',
                    'device_owner', 'project_id', 'revision_number',
                    'updated_at', 'evidence')
ORPHAN_COLUMNS = ('trunk_id', 'name', 'project_id', 'parent_port_id',
                  'subport_ids', 'server_id', 'updated_at', 'class',
                  'reason', 'evidence')
# What a table shows unless -c asks for more.
ORPHAN_SHOWN = ('trunk_id', 'project_id', 'subports', 'updated_at',
                'class', 'reason')
REPORT_COLUMNS = ('trunk_ids', 'outcome', 'action', 'kind', 'id', 'detail')


def _print_leftovers(found, args, out):
    if args.format in output.RECORDS:
        output.emit_record(args, out, found.to_dict())
        return
    server = [found.server] if found.server else []
    rows = [dict(kind=res.role or res.kind, id=res.id,
                 state='present' if res.present else 'gone',
                 status=res.status, device_id=res.device_id,
                 device_owner=res.device_owner, project_id=res.project_id,
                 revision_number=res.revision_number,
                 updated_at=res.updated_at, evidence=res.evidence)
            for res in server + list(found.trunks.values()) +
            list(found.ports.values())]
    output.emit_rows(args, out, rows, LEFTOVER_COLUMNS,
                     shown=LEFTOVER_COLUMNS[:5])
    if args.format == 'table':
        out.write('clean: nothing of the footprint is left\n' if found.clean
                  else '%d resource(s) of the footprint left\n'
                  % len(found.present))


def _print_orphans(orphans, args, out):
    rows = [dict(o.to_dict(), subports=len(o.trunk.subports))
            for o in orphans]
    output.emit_rows(args, out, rows, ORPHAN_COLUMNS + ('subports',),
                     shown=(None if args.format in output.RECORDS
                            else ORPHAN_SHOWN))
    if args.format == 'table':
        proven = sum(1 for o in orphans if o.proven)
        out.write('%d orphaned trunk(s), %d proven (server deleted)\n'
                  % (len(orphans), proven))


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total, stream):
        self.total = total
        self.done = 0
        self.stream = stream
        self.lock = threading.Lock()
        self.shown = total > 1 and stream.isatty()

    def __call__(self, _report):
        with self.lock:
            self.done += 1
            if self.shown:
                filled = 30 * self.done // self.total
                self.stream.write('\r[%s%s] %d/%d trunks' % (
                    '=' * filled, ' ' * (30 - filled), self.done,
                    self.total))
                if self.done == self.total:
                    self.stream.write('\n')
                self.stream.flush()


def _report_rows(report):
    """A report's lines: evidence, actions, then what is left or kept."""
    trunks = ', '.join(report.footprint.trunk_ids)
    rows = [dict(outcome='evidence', action=shown['class'], kind='trunk',
                 id=trunk_id, detail=shown['evidence'])
            for trunk_id, shown in sorted(report.evidence.items())]
    rows += [a.to_dict() for a in report.actions]
    rows += [dict(outcome=state, action='', kind=r['kind'], id=r['id'],
                  detail=r['reason'])
             for state, left in (('left', report.left),
                                 ('kept', report.kept)) for r in left]
    rows.append(dict(outcome='summary', action='', kind='footprint',
                     id=trunks, detail=report.summary))
    return [dict(row, trunk_ids=trunks) for row in rows]


def _print_reports(reports, args, out):
    if args.format in output.RECORDS:
        data = [r.to_dict() for r in reports]
        output.emit_record(args, out, data[0] if len(data) == 1 else data)
        return
    rows = [row for r in reports for row in _report_rows(r)]
    output.emit_rows(args, out, rows, REPORT_COLUMNS,
                     shown=REPORT_COLUMNS[int(len(reports) == 1):])
    if args.format != 'table' or len(reports) == 1:
        return
    clean = sum(1 for r in reports if r.clean)
    failed = sum(1 for r in reports if r.count(cleanup.FAILED))
    out.write('%d of %d footprint(s) clean, %d with a failure\n'
              % (clean, len(reports), failed))


# -- commands ------------------------------------------------------------

def _journal(args):
    return cleanup.Journal(args.state_dir or os.path.join(
        DEFAULT_STATE_DIR, JOURNAL))


def _orphans(args, clients):
    # Journal entries carry no tags: asked for tags, they are not wanted.
    return cleanup.find_orphans(
        clients, all_projects=args.all_projects, project_id=args.project,
        older_than=args.older_than, tags=args.tag,
        journal=None if args.tag else _journal(args))


def run(args, clients, out, err, stdin):
    """Run one parsed command; returns the exit code."""
    _require_trunks(clients)
    if args.command == 'record':
        fp = cleanup.record(clients, server_id=args.server,
                            parent_created_by=args.parent_created_by,
                            live_only=True)
        out.write(fp.to_json() + '\n')
        return EXIT_CLEAN
    if args.command == 'orphans':
        orphans = _orphans(args, clients)
        _print_orphans(orphans, args, out)
        return EXIT_LEFT if orphans else EXIT_CLEAN
    if args.command == 'inspect':
        found = cleanup.inspect(clients, _footprint(args, clients, stdin))
        _print_leftovers(found, args, out)
        return EXIT_CLEAN if found.clean else EXIT_LEFT
    if args.include_unbound and args.older_than is None:
        raise BadInput('--include-unbound needs --older-than AGE: a trunk '
                       'whose parent is unbound may be new')
    # Every candidate goes to the library, which refuses, with the
    # reason, what the cloud does not prove.
    footprints = ([o.footprint for o in _orphans(args, clients)]
                  if args.orphans else [_footprint(args, clients, stdin)])
    reports = cleanup.cleanup_many(
        clients, footprints, workers=args.workers,
        progress=Progress(len(footprints), err), dry_run=not args.yes,
        keep_ports=args.keep_ports, all_projects=args.all_projects,
        project_id=args.project, delete_parent=args.delete_parent_port,
        unbound_older_than=(args.older_than if args.include_unbound
                            else None),
        unbind_stale=args.unbind_stale, timeout=args.timeout,
        interval=args.interval, journal=_journal(args))
    if not reports:
        if args.format in output.RECORDS:
            output.emit_record(args, out, [])
        elif args.format == 'table':
            out.write('nothing to do: no orphaned trunk\n')
        return EXIT_CLEAN
    _print_reports(reports, args, out)
    return EXIT_CLEAN if all(r.clean for r in reports) else EXIT_LEFT


def watch_conf(args):
    """The service's oslo.config files: its bus and its credentials."""
    conf = cfg.ConfigOpts()
    clients_mod.register_conf_options(conf)
    conf([], project='trunk-cleanup', default_config_files=args.config_file,
         default_config_dirs=args.config_dir)
    return conf


def watch(args, clients, out, stop=None, conf=None):
    """Run the cleanup service until SIGTERM (or ``stop`` is set)."""
    from trunk_cleanup_tempest.watch import service
    from trunk_cleanup_tempest.watch import serving

    _require_trunks(clients)
    conf = conf or watch_conf(args)

    def ready():
        LOG.info('watching %s for deleted servers; every %ss, retrying the '
                 'journal%s', service.TOPIC, args.sweep_interval,
                 ' and sweeping orphans' if args.sweep_orphans else '')
    serving.serve(conf, clients, args.state_dir,
                  transport_url=args.transport_url, exchange=args.exchange,
                  sweep_interval=args.sweep_interval, stop=stop,
                  ready=ready, workers=args.workers, timeout=args.timeout,
                  interval=args.interval,
                  sweep_older_than=(args.sweep_older_than
                                    if args.sweep_orphans else None),
                  sweep_orphans=args.sweep_orphans,
                  max_wait=args.max_wait.total_seconds())
    out.write('trunk-cleanup watch: stopped\n')
    return EXIT_CLEAN


def _clients(args, conf):
    """``watch``'s own credentials from its config files, else ``OS_*``."""
    # No call waits for ever: one that hangs fails like any other.
    workers = getattr(args, 'workers', 1)
    if args.command == 'watch':
        # Its cleanups (one of them may lead a shared read), as many
        # notifications handled at once, the sweep and the awaiter each
        # hold a connection: from_cloud adds the shared read's.
        workers = 2 * workers + 2
    elif args.command == 'cleanup':
        workers = cleanup.calling_threads(workers)
    sizes = dict(workers=workers, timeout=getattr(args, 'timeout', None))
    if conf is not None:
        clients = clients_mod.from_conf(conf, **sizes)
        if clients is not None:
            LOG.info('credentials: [%s] of the config files',
                     clients_mod.CONF_GROUP)
            return clients
        LOG.info('credentials: the OS_* variables (no [%s] in the config '
                 'files)', clients_mod.CONF_GROUP)
    return clients_mod.from_args(args, **sizes)


def main(argv=None, clients_factory=None, out=sys.stdout, err=sys.stderr,
         stdin=sys.stdin):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    # tempest.lib omits tokens and passwords from what it logs.
    logging.basicConfig(stream=err, format='%(asctime)s %(levelname)s '
                        '%(name)s %(message)s',
                        level=logging.DEBUG if args.debug else (
                            logging.INFO if args.command == 'watch'
                            else logging.WARNING))
    if not args.debug:
        # What went wrong is the one line below; keystoneauth's and
        # urllib3's own notices (discovery, retries, pools) would repeat it.
        for noisy in ('keystoneauth', 'urllib3'):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        conf = watch_conf(args) if args.command == 'watch' else None
        clients = (clients_factory() if clients_factory is not None
                   else _clients(args, conf))
        if args.command == 'watch':
            return watch(args, clients, out, conf=conf)
        return run(args, clients, out, err, stdin)
    except (cleanup.CleanupError, clients_mod.MissingCredentials,
            clients_mod.CloudError, output.BadColumn, BadInput) as exc:
        return _fail(err, str(exc))
    except lib_exc.Unauthorized:
        return _fail(err, 'the cloud refused the credentials (HTTP 401)')
    except (lib_exc.RestClientException,) + cleanup.CONNECTION_ERRORS as exc:
        return _fail(err, cleanup.error_text(exc))
    except cfg.ConfigFileParseError as exc:
        # Its message quotes the line, which may hold a secret.
        where = re.search(r'at (\S+:\d+)', str(exc))
        return _fail(err, 'config: cannot parse %s' % (
            where.group(1) if where else exc.config_file))
    except cfg.Error as exc:
        return _fail(err, 'config: %s' % exc)
    except (cleanup.PaginationError, OSError) as exc:
        return _fail(err, '%s: %s' % (type(exc).__name__, exc))
    except KeyboardInterrupt:
        return _fail(err, 'interrupted: cleanups not started were not run; '
                          'the journal keeps what was under way')


def _fail(err, reason):
    err.write('trunk-cleanup: error: %s\n' % ' '.join(str(reason).split()))
    return EXIT_BAD_INPUT


if __name__ == '__main__':
    sys.exit(main())
