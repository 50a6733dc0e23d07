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

"""Service clients for the operator command, authenticated as ``openstack``.

tempest.lib already has every client the library needs (Neutron's
``TrunksClient`` and ``PortsClient``, Nova's ``ServersClient``). Outside
tempest they are authenticated exactly as the openstack CLI authenticates:
``openstack.config`` reads clouds.yaml, secure.yaml, the ``OS_*``
variables and the ``--os-*`` options, and a keystoneauth1 session does the
rest, so every auth type (password, token, application credential, OIDC)
and every scope (project, domain, system) works. The clients take their
token and endpoints from that session and send their requests through
its connection pool. Inside tempest a ``Manager`` such as ``os_primary``
plays the same part.
"""

import contextlib

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ksa_session
from openstack.config import cloud_region
from openstack.config import loader
from openstack import exceptions as sdk_exc
from oslo_config import cfg
from tempest.lib import auth
from tempest.lib import exceptions as lib_exc
from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import extensions_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client

# Seconds an API call may take when neither --os-api-timeout nor the
# caller says otherwise: none waits for ever.
DEFAULT_TIMEOUT = 60


class MissingCredentials(ValueError):
    """The configuration does not say how to reach the cloud."""


class CloudError(ValueError):
    """The cloud cannot be used as configured (no endpoint, refused)."""


class SessionAuthProvider:
    """tempest.lib's auth provider over a keystoneauth1 session.

    It gives the clients the session's token and the endpoint of their
    service in the configured region and interface, or the endpoint
    override (``OS_NETWORK_ENDPOINT_OVERRIDE``, ``network_endpoint_override``
    in clouds.yaml). Keystone is only asked once a client makes its first
    call.

    :param cloud: an ``openstack.config`` ``CloudRegion``.
    """

    def __init__(self, cloud):
        self.cloud = cloud
        self.session = cloud.get_session()
        self.credentials = _Credentials(self)
        self._endpoints = {}
        self._scope_checked = False

    def get_token(self):
        token = _keystone(self.session.get_token)
        if not self._scope_checked:
            self._check_scope()
            self._scope_checked = True
        return token

    def _check_scope(self):
        """Refuse a token that is not scoped to a project.

        Neutron's and Nova's policies for ports, trunks and servers are
        project-scoped (``scope_types=['project']``): under scope
        enforcement they refuse any other token, call by call, and where
        scope is not enforced their answers to it depend on the deployment.
        Neither is a base to clean from.
        """
        get_access = getattr(self.session.auth, 'get_access', None)
        if get_access is None:
            return
        ref = _keystone(get_access, self.session)
        if not ref.project_scoped:
            scope = ('system' if ref.system_scoped else
                     'domain' if ref.domain_scoped else 'not')
            raise CloudError(
                'the token is %s-scoped: Neutron\'s and Nova\'s policies '
                'for ports, trunks and servers are project-scoped; use a '
                'project-scoped admin (OS_PROJECT_NAME or '
                '--os-project-name) with --all-projects or --project'
                % scope)

    def base_url(self, filters, auth_data=None):
        service = filters['service']
        if service not in self._endpoints:
            self._endpoints[service] = self._endpoint(service)
        return auth.apply_url_filters(self._endpoints[service], filters)

    def _endpoint(self, service):
        url = self.cloud.get_endpoint(service)
        if url:
            return url.rstrip('/')
        if not self.cloud.get_region_name(service):
            self._one_region(service)
        url = _keystone(self.cloud.get_endpoint_from_catalog, service)
        if not url:
            raise CloudError(
                'no %s endpoint in region %s for the %s interface in the '
                'catalog (--os-region-name, --os-interface)' % (
                    service, self.cloud.get_region_name(service) or '(none)',
                    self.cloud.get_interface(service)))
        return url.rstrip('/')

    def _one_region(self, service):
        """With no region named, the catalog must offer only one.

        Otherwise Neutron and Nova could be taken from different regions,
        and Nova's own ``itemNotFound`` would call every server of the
        other region deleted.
        """
        catalog = _keystone(self.session.auth.get_access,
                            self.session).service_catalog
        regions = sorted({e.get('region_name') or e.get('region') or ''
                          for e in catalog.get_endpoints(
                              service_type=service).get(service, ())})
        if len(regions) > 1:
            raise CloudError(
                'the catalog offers %s in regions %s: name one with '
                '--os-region-name (OS_REGION_NAME)'
                % (service, ', '.join(regions)))

    def auth_request(self, method, url, headers=None, body=None,
                     filters=None):
        base = self.base_url(filters)
        headers = dict(headers or {}, **{'X-Auth-Token': self.get_token()})
        return ('%s/%s' % (base, url) if url else base), headers, body

    def project_id(self):
        return _keystone(self.session.get_project_id)


class _Credentials:
    """What the library asks of credentials: the token's project."""

    def __init__(self, provider):
        self._provider = provider

    @property
    def project_id(self):
        return self._provider.project_id()

    # tempest.lib's clients call it so.
    tenant_id = project_id


@contextlib.contextmanager
def _transport(prefix=''):
    """keystoneauth1's transport errors as the built-in ones.

    ``ConnectionError`` or ``TimeoutError``: what the library expects of a
    request that may not have reached the cloud, or whose answer was lost.
    """
    try:
        yield
    except (ksa_exc.ConnectTimeout, ksa_exc.RequestTimeout) as exc:
        raise TimeoutError(prefix + str(exc)) from exc
    except ksa_exc.ConnectionError as exc:
        raise ConnectionError(prefix + str(exc)) from exc


def _keystone(call, *args):
    """Call keystoneauth1; its errors as tempest.lib's or built-in ones."""
    try:
        with _transport('Keystone: '):
            return call(*args)
    except ksa_exc.Unauthorized as exc:
        raise lib_exc.Unauthorized(str(exc))
    except ksa_exc.Forbidden as exc:
        raise lib_exc.Forbidden(str(exc))
    except ksa_exc.MissingRequiredOptions as exc:
        raise MissingCredentials(str(exc))
    except ksa_exc.ClientException as exc:
        raise CloudError('Keystone: %s' % exc) from exc


class _Response(dict):
    """A requests response as tempest.lib's own http object returns it."""

    def __init__(self, resp, url):
        super().__init__((k.lower(), v) for k, v in resp.headers.items())
        self.status = resp.status_code
        self['status'] = str(resp.status_code)
        self.reason = resp.reason
        self['content-location'] = url


class SessionHttp:
    """tempest.lib's ``http_obj``, sent through the keystoneauth1 session.

    One pool of connections kept open across calls and shared by every
    client and worker, sized to the workers so that none is thrown away;
    one timeout for every call. A request that may not have reached the
    cloud, or whose answer was lost, raises ``ConnectionError`` or
    ``TimeoutError``, as the library expects of any transport.
    """

    def __init__(self, session, pool_size, timeout):
        adapter = ksa_session.TCPKeepAliveAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size)
        session.session.mount('http://', adapter)
        session.session.mount('https://', adapter)
        self.session = session
        self.timeout = timeout

    def request(self, url, method, headers=None, body=None, chunked=False,
                preload_content=True):
        with _transport():
            # Nothing is sent twice: no retries, and a redirect is an
            # answer (that tempest.lib reports), not followed.
            resp = self.session.request(
                url, method, headers=headers, data=body,
                authenticated=False, raise_exc=False, log=False,
                timeout=self.timeout, connect_retries=0, redirect=False)
        return _Response(resp, url), resp.content


class CloudClients:
    """The network and compute clients the cleanup library uses."""

    def __init__(self, auth_provider, region, endpoint_type='publicURL',
                 http=None, **kwargs):
        self._made = dict(auth_provider=auth_provider, region=region,
                          endpoint_type=endpoint_type, **kwargs)
        self._http = http
        self.trunks_client = self.client(trunks_client.TrunksClient,
                                         'network')
        self.ports_client = self.client(ports_client.PortsClient, 'network')
        self.servers_client = self.client(servers_client.ServersClient,
                                          'compute')
        self.extensions_client = self.client(
            extensions_client.ExtensionsClient, 'network')

    def client(self, cls, service):
        """Another tempest.lib client, on the same session and pool."""
        made = cls(service=service, **self._made)
        if self._http is not None:
            made.http_obj = self._http
        return made


def register_arguments(parser, argv):
    """The openstack CLI's ``--os-*`` options (and their ``OS_*``)."""
    loader.OpenStackConfig().register_argparse_arguments(parser, argv)


def from_args(args=None, workers=1, timeout=None):
    """Clients for what ``args`` (of :func:`register_arguments`) name.

    With no ``args``, the ``OS_*`` variables and ``OS_CLOUD`` decide, as
    for the openstack CLI.

    :param workers: how many threads call at once: the connection pool's
        size.
    :param timeout: seconds a call may take, unless the configuration
        sets ``api_timeout``.
    :raises MissingCredentials: no cloud of that name, or not enough to
        authenticate with (never echoing a secret).
    """
    try:
        cloud = loader.OpenStackConfig().get_one(argparse=args)
        return from_cloud(cloud, workers, timeout)
    except (sdk_exc.ConfigException, ksa_exc.ClientException) as exc:
        raise MissingCredentials(_one_line(exc))


def from_environ(environ, workers=1, timeout=None):
    """Clients for the ``OS_*`` variables of ``environ``, not the process's.

    Each ``OS_<NAME>`` is the configuration key ``<name>``, as
    ``openstack.config`` reads the process's environment.
    """
    config = {key[3:].lower(): value for key, value in environ.items()
              if key.startswith('OS_') and value}
    name = config.pop('cloud', None)
    try:
        cloud = loader.OpenStackConfig(
            load_envvars=False, load_yaml_config=bool(name)).get_one(
                cloud=name, **config)
        return from_cloud(cloud, workers, timeout)
    except (sdk_exc.ConfigException, ksa_exc.ClientException) as exc:
        raise MissingCredentials(_one_line(exc))


# The section of a service's config file that holds its own credentials
# (not ceilometer's ``service_credentials``: a shared file must not lend
# another service's).
CONF_GROUP = 'trunk_cleanup_watch'
_CONF_OPTS = [
    cfg.StrOpt('region_name',
               help='Region of the network and compute endpoints; required '
                    'when the catalog offers them in more than one.'),
    cfg.StrOpt('interface', default='public',
               choices=('public', 'internal', 'admin'),
               help='Endpoint interface of the catalog to use.'),
]


def register_conf_options(conf, group=CONF_GROUP):
    """Register the options a service's own credentials are read from.

    keystoneauth1's auth and session options, as OpenStack services read
    theirs (``auth_type``, ``auth_url``, ``application_credential_id``...,
    ``cafile``, ``timeout``), plus the region and interface.
    """
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_session_conf_options(conf, group)
    conf.register_opts(_CONF_OPTS, group=group)


def list_conf_options():
    """For the sample config file (an application credential's options)."""
    return [(CONF_GROUP, _CONF_OPTS +
             ks_loading.get_session_conf_options() +
             ks_loading.get_auth_common_conf_options() +
             ks_loading.get_auth_plugin_conf_options(
                 'v3applicationcredential'))]


def from_conf(conf, group=CONF_GROUP, workers=1, timeout=None):
    """Clients for the credentials in ``conf``'s ``group``; None if none.

    :raises MissingCredentials: the section names an auth type but not
        what it needs.
    """
    if not (conf[group].auth_type or conf[group].auth_section):
        return None
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(conf, group,
                                                            auth=auth)
    except (ksa_exc.ClientException, cfg.Error) as exc:
        raise MissingCredentials('[%s] %s' % (group, _one_line(exc)))
    cloud = cloud_region.from_session(
        session, region_name=conf[group].region_name,
        interface=conf[group].interface)
    return from_cloud(cloud, workers, session.timeout or timeout)


def from_cloud(cloud, workers=1, timeout=None):
    """Clients over one ``openstack.config`` ``CloudRegion``."""
    provider = SessionAuthProvider(cloud)
    timeout = cloud.config.get('api_timeout') or timeout or DEFAULT_TIMEOUT
    # The workers, and the shared read one of them may lead while the
    # others write.
    http = SessionHttp(provider.session, max(workers, 1) + 1, float(timeout))
    return CloudClients(provider, cloud.get_region_name('network'),
                        endpoint_type='%sURL' % cloud.get_interface(
                            'network'),
                        http=http)


def _one_line(exc):
    return ' '.join(str(exc).split())
