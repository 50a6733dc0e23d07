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

"""The services' virtualenvs, and the dump of their migrated databases.

Each release's services run from a virtualenv of their own, made once from
its pins (their pins must not meet tempest's) and reused; the databases
they migrate are dumped into it, so later ``up``s restore them in seconds.
"""

import glob
import hashlib
import json
import os
import shutil
import sys
import time

from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import releases

# The newest release's pins.
REQUIREMENTS = releases.get(releases.NEWEST).requirements
# Every service's database right after its migrations, kept in the
# services' virtualenv and named after what is installed in it. Bump the
# version when what a Service.migrate() does changes.
SCHEMA_DUMP = 'localcloud-databases-1-%s.sql'


def default_venv(requirements=REQUIREMENTS, prefix='services',
                 folder=None):
    """One virtualenv per requirements file, reused across runs.

    :param folder: where the virtualenvs are (default: the user's cache).
    """
    with open(requirements, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    if folder is None:
        cache = os.environ.get('XDG_CACHE_HOME',
                               os.path.expanduser('~/.cache'))
        folder = os.path.join(cache, 'trunk-cleanup-tempest')
    return os.path.join(folder, '%s-%s' % (prefix, digest))


def schema_dump(venv):
    """Where the dump of the virtualenv's schemas goes, or (None, why).

    Named after every distribution installed, so a virtualenv whose
    packages changed (``--venv``, an upgrade) migrates again. An editable
    install can change with no new name: never cached.
    """
    found = glob.glob(os.path.join(venv, 'lib', 'python*', 'site-packages',
                                   '*.dist-info'))
    if not found:
        return None, 'no installed distribution found in %s' % venv
    for info in found:
        try:
            with open(os.path.join(info, 'direct_url.json')) as f:
                editable = json.load(f).get('dir_info', {}).get('editable')
        except (OSError, ValueError):
            continue
        if editable:
            return None, '%s is installed editable' % (
                os.path.basename(info)[:-len('.dist-info')])
    names = '\n'.join(sorted(os.path.basename(i) for i in found))
    digest = hashlib.sha256(names.encode()).hexdigest()[:12]
    return os.path.join(venv, SCHEMA_DUMP % digest), None


def _uv():
    """uv's binary (the ``uv`` wheel, or one on the PATH), or None."""
    try:
        import uv
        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which('uv')


def ensure_venv(venv, log=sys.stderr, requirements=REQUIREMENTS):
    """Create a virtualenv from pinned requirements (the services').

    With uv, which installs the same pins several times faster than pip;
    with the venv module and pip where uv is missing. Either way the
    virtualenv has pip and setuptools, as ``python -m venv`` gives them.
    A virtualenv that finished installing (marked by a stamp file) is
    reused as it is.
    """
    stamp = os.path.join(venv, '.installed')
    if os.path.exists(stamp):
        return False
    os.makedirs(os.path.dirname(venv), exist_ok=True)
    log_file = venv.rstrip('/') + '-install.log'
    uv = _uv()
    env = None
    if uv:
        # uv refuses a folder that holds a virtualenv: an install cut short
        # left one.
        shutil.rmtree(venv, ignore_errors=True)
        # uv reads no pip configuration: the index pip was given, uv gets.
        env = dict(os.environ)
        for pip, uv_name in (('PIP_INDEX_URL', 'UV_INDEX_URL'),
                             ('PIP_EXTRA_INDEX_URL', 'UV_EXTRA_INDEX_URL')):
            if pip in env:
                env.setdefault(uv_name, env[pip])
        commands = [[uv, 'venv', '--quiet', '--seed', '--python',
                     sys.executable, venv],
                    [uv, 'pip', 'install', '--quiet', '--python',
                     os.path.join(venv, 'bin', 'python'), '-r',
                     requirements]]
    else:
        commands = [[sys.executable, '-m', 'venv', '--clear', venv],
                    [os.path.join(venv, 'bin', 'pip'), 'install', '--quiet',
                     '--disable-pip-version-check', '-r', requirements]]
    log.write('installing %s into %s with %s (log: %s)\n'
              % (os.path.basename(requirements), venv,
                 'uv' if uv else 'pip', log_file))
    started = time.monotonic()
    for command in commands:
        process.run('virtualenv', command, log_file, env=env)
    open(stamp, 'w').close()
    log.write('  virtualenv made in %5.1fs\n' % (time.monotonic() - started))
    return True
