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

"""Service clients for the operator command, built from ``OS_*`` variables.

tempest.lib already has every client the library needs (Neutron's
``TrunksClient`` and ``PortsClient``, Nova's ``ServersClient``); this only
authenticates them the way every OpenStack command line does. Inside
tempest a ``Manager`` such as ``os_primary`` plays the same part.
"""

import os

from tempest.lib import auth
from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import extensions_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client
import yaml

REQUIRED = ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_PROJECT_NAME')
# Service types whose catalog endpoint can be overridden, as openstacksdk
# does with OS_<TYPE>_ENDPOINT_OVERRIDE (<type>_endpoint_override in
# clouds.yaml).
OVERRIDABLE = ('network', 'compute')


class MissingCredentials(ValueError):
    """The environment does not say how to reach the cloud."""


class OverridingAuthProvider(auth.KeystoneV3AuthProvider):
    """Keystone v3 auth whose catalog URL is replaced for some services.

    :param overrides: ``{service type: URL}`` used instead of the catalog's
        endpoint (a proxy, a private address).
    """

    def __init__(self, *args, overrides=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.overrides = dict(overrides or {})

    def base_url(self, filters, auth_data=None):
        override = self.overrides.get(filters.get('service'))
        if override:
            return auth.apply_url_filters(override.rstrip('/'), filters)
        return super().base_url(filters, auth_data)


class CloudClients:
    """The network and compute clients the cleanup library uses."""

    def __init__(self, auth_provider, region, endpoint_type='publicURL',
                 **kwargs):
        def client(cls, service):
            return cls(auth_provider, service, region,
                       endpoint_type=endpoint_type, **kwargs)
        self.trunks_client = client(trunks_client.TrunksClient, 'network')
        self.ports_client = client(ports_client.PortsClient, 'network')
        self.servers_client = client(servers_client.ServersClient,
                                     'compute')
        self.extensions_client = client(extensions_client.ExtensionsClient,
                                        'network')


def config_files(environ=None):
    """Where clouds.yaml is looked for, as openstacksdk looks."""
    env = os.environ if environ is None else environ
    dirs = [os.getcwd(), os.path.expanduser('~/.config/openstack'),
            '/etc/openstack']
    files = [os.path.join(d, 'clouds.yaml') for d in dirs]
    if env.get('OS_CLIENT_CONFIG_FILE'):
        files.insert(0, env['OS_CLIENT_CONFIG_FILE'])
    return files


def cloud_environ(name, files=None):
    """The ``OS_*`` variables that cloud ``name`` of clouds.yaml stands for.

    A ``secure.yaml`` beside the clouds.yaml (where passwords often live)
    is merged in.

    :raises MissingCredentials: no such cloud, or a file that is not YAML.
    """
    files = files if files is not None else config_files()
    for path in files:
        if not os.path.exists(path):
            continue
        try:
            with open(path) as f:
                clouds = (yaml.safe_load(f) or {}).get('clouds') or {}
            secure = os.path.join(os.path.dirname(path), 'secure.yaml')
            if os.path.exists(secure):
                with open(secure) as f:
                    secrets = (yaml.safe_load(f) or {}).get('clouds') or {}
            else:
                secrets = {}
        except (OSError, yaml.YAMLError, AttributeError) as exc:
            raise MissingCredentials('cannot read %s: %s' % (path, exc))
        if name in clouds:
            cloud = _merge(clouds[name], secrets.get(name) or {})
            return _as_environ(cloud)
    raise MissingCredentials('cloud %r not found in %s' % (
        name, ', '.join(files)))


def _merge(base, extra):
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _as_environ(cloud):
    creds = cloud.get('auth') or {}
    pairs = {
        'OS_AUTH_URL': creds.get('auth_url'),
        'OS_USERNAME': creds.get('username'),
        'OS_PASSWORD': creds.get('password'),
        'OS_PROJECT_NAME': creds.get('project_name'),
        'OS_USER_DOMAIN_NAME': creds.get('user_domain_name') or
        creds.get('domain_name'),
        'OS_PROJECT_DOMAIN_NAME': creds.get('project_domain_name') or
        creds.get('domain_name'),
        'OS_REGION_NAME': cloud.get('region_name'),
        'OS_INTERFACE': cloud.get('interface'),
        'OS_CACERT': cloud.get('cacert'),
        'OS_INSECURE': 'true' if cloud.get('verify') is False else '',
    }
    for kind in OVERRIDABLE:
        pairs[_override_variable(kind)] = cloud.get(
            '%s_endpoint_override' % kind)
    return {k: str(v) for k, v in pairs.items() if v}


def _override_variable(service_type):
    return 'OS_%s_ENDPOINT_OVERRIDE' % service_type.upper()


def from_args(os_cloud=None, environ=None, **client_kwargs):
    """Clients for ``--os-cloud``/``OS_CLOUD`` or else the ``OS_*``."""
    env = os.environ if environ is None else environ
    name = os_cloud or env.get('OS_CLOUD')
    if name:
        return from_environ(cloud_environ(name, config_files(env)),
                            **client_kwargs)
    return from_environ(env, **client_kwargs)


def from_environ(environ=None, **client_kwargs):
    """Authenticate with Keystone v3 from ``OS_*`` variables.

    Nothing is sent until the first call of a client.
    ``OS_NETWORK_ENDPOINT_OVERRIDE`` and ``OS_COMPUTE_ENDPOINT_OVERRIDE``
    replace the catalog's endpoints, as in openstacksdk.

    :param client_kwargs: for every tempest.lib client (``http_timeout``).

    :raises MissingCredentials: naming every variable that is missing, and
        never echoing the password.
    """
    env = os.environ if environ is None else environ
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise MissingCredentials('missing %s in the environment (source '
                                 'an openrc file first)' % ', '.join(missing))
    auth_url = env['OS_AUTH_URL'].rstrip('/')
    if not auth_url.endswith('/v3'):
        auth_url += '/v3'
    creds = auth.KeystoneV3Credentials(
        username=env['OS_USERNAME'], password=env['OS_PASSWORD'],
        project_name=env['OS_PROJECT_NAME'],
        user_domain_name=env.get('OS_USER_DOMAIN_NAME', 'Default'),
        project_domain_name=env.get('OS_PROJECT_DOMAIN_NAME', 'Default'))
    tls = {'disable_ssl_certificate_validation':
           env.get('OS_INSECURE', '').lower() in ('1', 'true', 'yes'),
           'ca_certs': env.get('OS_CACERT')}
    overrides = {kind: env[_override_variable(kind)] for kind in OVERRIDABLE
                 if env.get(_override_variable(kind))}
    provider = OverridingAuthProvider(creds, auth_url, overrides=overrides,
                                      **tls)
    interface = env.get('OS_INTERFACE', 'public').replace('URL', '')
    return CloudClients(provider, env.get('OS_REGION_NAME', 'RegionOne'),
                        endpoint_type=interface + 'URL',
                        **dict(tls, **client_kwargs))
