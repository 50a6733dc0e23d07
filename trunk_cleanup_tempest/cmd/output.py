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

"""``-f table|json|yaml|value|csv`` and ``-c COLUMN``, as ``openstack`` has.

The rows go through cliff's own formatters, the ones the openstack CLI
prints with, each with its options (``--max-width``, ``--noindent``,
``--quote``...). ``inspect`` and ``cleanup`` print a row per resource in
``table``, ``value`` and ``csv``; in ``json`` and ``yaml`` the library's
whole record (``Leftovers.to_dict()``, ``Report.to_dict()``), which
scripts read.
"""

import json

from cliff import columns
from cliff.formatters import commaseparated
from cliff.formatters import json_format
from cliff.formatters import table
from cliff.formatters import value
from cliff.formatters import yaml_format
import yaml

FORMATTERS = {'table': table.TableFormatter, 'json': json_format.JSONFormatter,
              'yaml': yaml_format.YAMLFormatter, 'value': value.ValueFormatter,
              'csv': commaseparated.CSVLister}
# Formats that print the library's whole record rather than rows.
RECORDS = ('json', 'yaml')


class BadColumn(ValueError):
    """``-c`` names a column the command does not have."""


class Structured(columns.FormattableColumn):
    """A list or mapping: one line of text in a table, data in JSON."""

    def human_readable(self):
        data = self._value
        if isinstance(data, dict):
            return ', '.join('%s=%s' % item for item in sorted(data.items()))
        return ', '.join(str(item) for item in data)


def add_arguments(parser):
    group = parser.add_argument_group('output formatters')
    group.add_argument('-f', '--format', choices=sorted(FORMATTERS),
                       default='table',
                       help='the output format (default: %(default)s)')
    group.add_argument('-c', '--column', dest='columns', action='append',
                       default=[], metavar='COLUMN',
                       help='print only this column (repeatable)')
    for formatter in FORMATTERS.values():
        formatter().add_argument_group(parser)


def emit_rows(args, out, rows, names, shown=None):
    """``rows`` (dicts), the columns ``-c`` names or else ``shown``.

    :param names: every column a row has, in order.
    :param shown: the columns printed when ``-c`` names none (default:
        all of them).
    :raises BadColumn: ``-c`` names a column that is not in ``names``.
    """
    unknown = [c for c in args.columns if c not in names]
    if unknown:
        raise BadColumn('no column %s: the columns are %s' % (
            ', '.join(unknown), ', '.join(names)))
    picked = args.columns or shown or names
    if not rows and args.format == 'table' and not args.print_empty:
        return
    # None is null in JSON and YAML, and nothing in a table.
    blank = None if args.format in RECORDS else ''
    data = [[_cell(row.get(name), blank) for name in picked] for row in rows]
    FORMATTERS[args.format]().emit_list(picked, data, out, args)


def emit_record(args, out, record):
    """The library's whole record, as JSON or YAML."""
    if args.columns:
        raise BadColumn('-c picks columns of table, value and csv output; '
                        '%s prints the whole record' % args.format)
    if args.format == 'yaml':
        yaml.safe_dump(record, out, default_flow_style=False)
    else:
        indent = None if getattr(args, 'noindent', False) else 2
        out.write(json.dumps(record, indent=indent, sort_keys=True) + '\n')


def _cell(data, blank):
    if isinstance(data, (dict, list, tuple)):
        return Structured(data)
    return blank if data is None else data
