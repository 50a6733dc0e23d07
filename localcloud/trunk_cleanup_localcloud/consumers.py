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

"""What the cloud gives those who use it: tempest.conf, ``OS_*``, openrc.

And ``tempest run`` in a workspace made for the cloud.
"""

import hashlib
import os
import subprocess
import sys

from trunk_cleanup_localcloud import layout as layout_mod
from trunk_cleanup_localcloud import services
from trunk_cleanup_tempest import config as tc_config


def tempest_conf(layout, state, path, expected_after_server_delete=None,
                 overrides=()):
    """Write a tempest.conf for this cloud (admin for dynamic creds).

    :param expected_after_server_delete: what the tests expect; by
        default ``removed`` when ``watch`` runs, else ``left``.
    :param overrides: ``(section, key, value)`` to set on top.
    """
    if expected_after_server_delete is None:
        expected_after_server_delete = (
            tc_config.EXPECT_REMOVED if state.get('watch')
            else tc_config.EXPECT_LEFT)
    st = state
    values = {
        'DEFAULT': {'log_file': 'tempest.log'},
        'auth': {'admin_username': 'admin',
                 'admin_password': layout.password,
                 'admin_project_name': 'admin',
                 'admin_domain_name': 'Default',
                 'use_dynamic_credentials': True,
                 'create_isolated_networks': False},
        'identity': {'uri_v3': layout.auth_url, 'auth_version': 'v3',
                     'region': layout_mod.REGION},
        'identity-feature-enabled': {'api_v2': False},
        'compute': {'image_ref': st['image_id'],
                    'image_ref_alt': st['image_id'],
                    'flavor_ref': st['flavor_id'],
                    'flavor_ref_alt': st['flavor_id'],
                    'build_timeout': 60},
        'compute-feature-enabled': {'console_output': False,
                                    'attach_encrypted_volume': False},
        'network': {'project_networks_reachable': False,
                    'build_timeout': 60},
        'network-feature-enabled': {
            'api_extensions': ','.join(st['network_extensions'])},
        'image': {'build_timeout': 60},
        'validation': {'run_validation': False},
        'service_available': {'nova': True, 'neutron': True,
                              'glance': True, 'cinder': False,
                              'swift': False, 'horizon': False},
        tc_config.trunk_cleanup_group.name: {
            'expected_after_server_delete': expected_after_server_delete,
            'trunk_wired': layout.driver != 'fake',
            'cleanup_timeout': 60, 'cleanup_interval': 0.5},
    }
    for section, key, value in overrides:
        values.setdefault(section, {})[key] = value
    services.write_ini(path, values)
    return path


def environ(layout, user='demo'):
    """The ``OS_*`` variables of ``user`` (``demo`` or ``admin``)."""
    project = 'admin' if user == 'admin' else 'demo'
    return {'OS_AUTH_URL': layout.auth_url, 'OS_USERNAME': user,
            'OS_PASSWORD': layout.password, 'OS_PROJECT_NAME': project,
            'OS_USER_DOMAIN_NAME': 'Default',
            'OS_PROJECT_DOMAIN_NAME': 'Default',
            'OS_REGION_NAME': layout_mod.REGION}


def openrc(layout, user='demo'):
    """Shell variables for the operator command, as ``user``."""
    return ''.join('export %s=%s\n' % kv
                   for kv in environ(layout, user).items())


def run_tempest(cloud, workspace, regex, concurrency, extra=(),
                expected=None, overrides=(), out=sys.stdout,
                keep_times=False):
    """``tempest init`` a workspace for the cloud and ``tempest run`` in it.

    A new workspace first loads the last kept run's durations (see
    ``layout.TEMPEST_TIMES``).

    :param keep_times: keep this run's durations in their place, if it
        passes: for a run of the whole suite, which has them all (a run
        cut short has not).
    :returns: tempest's exit code
    """
    tempest, stestr = _bin('tempest'), _bin('stestr')
    times = os.path.join(cloud.state_dir, layout_mod.TEMPEST_TIMES)
    if not os.path.exists(os.path.join(workspace, '.stestr.conf')):
        # Named after its path, so a workspace that "up" emptied is
        # registered again rather than refused as a duplicate.
        workspace = os.path.abspath(workspace)
        name = 'trunk-cleanup-%s' % hashlib.sha256(
            workspace.encode()).hexdigest()[:12]
        subprocess.run([tempest, 'workspace', 'remove', '--name', name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([tempest, 'init', '--name', name, workspace],
                       check=True, stdout=subprocess.DEVNULL)
        if os.path.exists(times):
            # Only durations are wanted: what the load says is not.
            with open(times, 'rb') as stream:
                subprocess.run([stestr, 'load'], cwd=workspace,
                               stdin=stream, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    cloud.tempest_conf(os.path.join(workspace, 'etc', 'tempest.conf'),
                       expected_after_server_delete=expected,
                       overrides=overrides)
    command = [tempest, 'run', '--regex', regex, '--concurrency',
               str(concurrency)] + list(extra)
    out.write('$ %s\n' % ' '.join(command))
    out.flush()
    code = subprocess.call(command, cwd=workspace)
    if code or not keep_times:
        return code
    last = subprocess.run([stestr, 'last', '--subunit'],
                          cwd=workspace, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL).stdout
    if last:
        partial = '%s.%d' % (times, os.getpid())
        with open(partial, 'wb') as f:
            f.write(last)
        os.replace(partial, times)
    return code


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)
