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

"""An in-memory Neutron and Nova behind the real tempest.lib clients.

Only the HTTP layer is replaced (each client's ``http_obj``), so the code
under test runs through tempest.lib's URL building, error mapping (404 to
NotFound, 409 to Conflict...) and Nova's response schema validation. The
rules and error bodies are Neutron's own (neutron/services/trunk/plugin.py,
rules.py and exceptions.py), so a cleanup in the wrong order fails here as
it fails on a cloud.
"""

import copy
import datetime
import json
import re
import threading
import types
import urllib.parse
import uuid

from tempest.lib.services.compute import servers_client
from tempest.lib.services.network import extensions_client
from tempest.lib.services.network import ports_client
from tempest.lib.services.network import trunks_client

PROJECT = '6a4e0fa7a83a4bb4a3b2a6f2f5a94d01'
OTHER_PROJECT = '0b1d7c1e7d0e4f6b9a0c3e8d2b4f6a10'
HOST = 'compute-1'
NEUTRON = 'http://neutron.invalid:9696'
NOVA = 'http://nova.invalid:8774/v2.1'
SERVER_CREATED = '2026-11-24T10:00:00Z'


class FakeAuthProvider:
    """Prefixes the endpoint like tempest.lib's auth providers do."""

    def __init__(self, base_url, project_id=PROJECT):
        self.base_url_value = base_url
        self.credentials = types.SimpleNamespace(project_id=project_id)

    def auth_request(self, method, url, headers=None, body=None,
                     filters=None):
        return '%s/%s' % (self.base_url_value, url), headers, body

    def base_url(self, filters, auth_data=None):
        return self.base_url_value

    def get_token(self):
        return 'fake-token'


class _Response(dict):
    def __init__(self, status):
        super().__init__({'status': str(status),
                          'content-type': 'application/json'})
        self.status = status
        self.reason = ''


class Clients:
    """What the library expects: the three tempest.lib clients."""

    def __init__(self, cloud):
        def wire(client):
            client.http_obj = cloud
            return client
        self.trunks_client = wire(trunks_client.TrunksClient(
            FakeAuthProvider(NEUTRON), 'network', 'RegionOne'))
        self.ports_client = wire(ports_client.PortsClient(
            FakeAuthProvider(NEUTRON), 'network', 'RegionOne'))
        self.servers_client = wire(servers_client.ServersClient(
            FakeAuthProvider(NOVA), 'compute', 'RegionOne'))
        self.extensions_client = wire(extensions_client.ExtensionsClient(
            FakeAuthProvider(NEUTRON), 'network', 'RegionOne'))


def neutron_error(kind, message):
    return {'NeutronError': {'type': kind, 'message': message,
                             'detail': ''}}


class Fault:
    """Answer ``times`` matching requests with an error instead."""

    def __init__(self, method, path, status, body, times=1):
        self.method = method
        self.path = re.compile(path)
        self.status = status
        self.body = body
        self.times = times

    def matches(self, method, path):
        return (self.times != 0 and method == self.method and
                self.path.search(path) is not None)


class FakeCloud:
    """Neutron (ML2 with the trunk plugin) and Nova, in memory.

    :param driver: ``'ovs'`` refuses to delete a trunk whose parent is bound
        (TrunkInUse); ``'ovn'`` allows it and clears the subports' owner.

    ``compute_ports_admin_only`` applies Neutron's policy from 2025.1 on:
    a project member may not delete a port owned by ``compute:*``.
    """

    def __init__(self, driver='ovs', extensions=('trunk', 'trunk-details')):
        self.driver = driver
        self.extensions = set(extensions)
        self.ports = {}
        self.trunks = {}
        self.servers = {}
        # Deleted servers' rows, not yet archived; servers whose instance
        # mapping is lost (shown 404, still listed).
        self.deleted = {}
        self.unmapped = set()
        # Whether Nova's policy lets the caller filter its list by uuid.
        self.nova_uuid_filter = True
        self.requests = []
        self.lock = threading.RLock()
        self.faults = []
        self.hooks = []
        self.compute_ports_admin_only = False
        # Neutron's pagination_max_limit and Nova's [api] max_limit (0:
        # none): a capped page says so only with a next link.
        self.neutron_page_cap = 0
        self.nova_page_cap = 0
        # Who calls: the caller's project, and whether it is admin (Nova:
        # all_tenants, any project's server; Neutron: binding:host_id,
        # any project's trunk).
        self.caller_project = PROJECT
        self.admin = False
        self.if_match = None
        # IDs every list answer leaves out, as a policy, a filtering proxy
        # or another project's port does to a member.
        self.hidden = set()
        # What Neutron stamps a change with (``updated_at``).
        self.clock = '2026-11-24T09:00:00Z'

    # -- building state -------------------------------------------------

    def add_port(self, project_id=PROJECT, created_at='2026-11-24T09:00:00Z',
                 **fields):
        port = {'id': str(uuid.uuid4()), 'name': '', 'network_id':
                str(uuid.uuid4()), 'project_id': project_id,
                'tenant_id': project_id, 'device_id': '', 'device_owner': '',
                'binding:host_id': '', 'binding:vif_type': 'unbound',
                'status': 'DOWN', 'admin_state_up': True,
                'revision_number': 1, 'tags': [],
                'created_at': created_at, 'updated_at': created_at}
        port.update(fields)
        self.ports[port['id']] = port
        return port['id']

    def add_trunk(self, parent_id, subport_ids=(), project_id=PROJECT,
                  segmentation_type='vlan', updated_at='2026-11-24T09:00:00Z',
                  **fields):
        trunk = {'id': str(uuid.uuid4()), 'name': '', 'port_id': parent_id,
                 'project_id': project_id, 'tenant_id': project_id,
                 'status': 'DOWN', 'admin_state_up': True,
                 'revision_number': 0, 'sub_ports': [], 'tags': [],
                 'created_at': updated_at, 'updated_at': updated_at}
        trunk.update(fields)
        self.trunks[trunk['id']] = trunk
        for i, pid in enumerate(subport_ids):
            sub = {'port_id': pid, 'segmentation_type': segmentation_type,
                   'segmentation_id': 100 + i if segmentation_type == 'vlan'
                   else None}
            trunk['sub_ports'].append(sub)
            self.ports[pid]['device_owner'] = 'trunk:subport'
        return trunk['id']

    def boot(self, port_id, project_id=PROJECT, status='ACTIVE'):
        """A server on ``port_id``; binds the parent and its subports."""
        server_id = self.add_server(project_id, status)
        self.bind(port_id, server_id)
        return server_id

    def add_server(self, project_id=PROJECT, status='ACTIVE'):
        """A server on no port (yet)."""
        server_id = str(uuid.uuid4())
        self.servers[server_id] = {'status': status, 'tenant_id': project_id}
        return server_id

    def change(self, resource, **fields):
        """Update a port or trunk as Neutron does: a new revision.

        ``updated_at`` is stamped with the cloud's ``clock``.
        """
        resource.update(fields)
        resource['revision_number'] = resource.get('revision_number', 0) + 1
        resource['updated_at'] = self.clock

    def bind(self, port_id, server_id):
        self.change(self.ports[port_id], device_id=server_id,
                    device_owner='compute:nova', status='ACTIVE',
                    **{'binding:host_id': HOST, 'binding:vif_type': 'ovs'})
        for trunk in self.trunks.values():
            if trunk['port_id'] == port_id:
                self.change(trunk, status='ACTIVE')
                for sub in trunk['sub_ports']:
                    self.change(self.ports[sub['port_id']],
                                **{'binding:host_id': HOST})

    def unbind(self, port_id):
        """What Nova does to a port it was given, on server delete."""
        self.change(self.ports[port_id], device_id='', device_owner='',
                    **{'binding:host_id': '', 'binding:vif_type': 'unbound'})
        for trunk in self.trunks.values():
            if trunk['port_id'] == port_id:
                self.change(trunk, status='DOWN')

    def delete_server(self, server_id, unbind=True):
        """Nova's delete: the ports stay (trunks pin them), unbound.

        With ``unbind=False`` Nova's unbind is lost: the port still names
        the server, but its VIF is unplugged and it goes DOWN.
        """
        # Nova keeps the row, deleted, until it is archived.
        self.deleted[server_id] = dict(
            self.servers.pop(server_id), status='DELETED',
            terminated_at=datetime.datetime.now(
                datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f'))
        for port in list(self.ports.values()):
            if port['device_id'] == server_id:
                if unbind:
                    self.unbind(port['id'])
                else:
                    self.change(port, status='DOWN')

    def stand_up(self, subports=2, **trunk_fields):
        """A server on a trunk with ``subports`` subports, as a user makes.

        :returns: (server_id, trunk_id, parent_id, [subport ids])
        """
        parent = self.add_port()
        subs = [self.add_port() for _ in range(subports)]
        trunk = self.add_trunk(parent, subs, **trunk_fields)
        server = self.boot(parent)
        return server, trunk, parent, subs

    def fail(self, method, path, status, kind, message='injected',
             times=1):
        if status >= 500:
            body = {'NeutronError': {'type': 'HTTPInternalServerError',
                                     'message': message, 'detail': ''}}
        else:
            body = neutron_error(kind, message)
        self.faults.append(Fault(method, path, status, body, times))

    def writes(self):
        return [(m, p) for m, p in self.requests if m != 'GET']

    # -- HTTP -----------------------------------------------------------

    def request(self, url, method, headers=None, body=None, chunked=False,
                preload_content=True):
        parsed = urllib.parse.urlsplit(url)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query)
        self.requests.append((method, path))
        for hook in list(self.hooks):
            hook(self, method, path)
        # One request at a time, as a real cloud's database makes each
        # atomic: a list is never read while a delete changes it.
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return self._reply(fault.status, fault.body)
            data = json.loads(body) if body else None
            if parsed.netloc == urllib.parse.urlsplit(NOVA).netloc:
                return self._nova(method, path, query)
            return self._neutron(method, path, query, data, headers)

    @staticmethod
    def _reply(status, body=None):
        return _Response(status), (json.dumps(body).encode()
                                   if body is not None else b'')

    def _visible(self, sid):
        """Nova shows a non-admin the servers of its own project only."""
        return sid in self.servers and sid not in self.unmapped and (
            self.admin or
            self.servers[sid]['tenant_id'] == self.caller_project)

    def _nova(self, method, path, query):
        if method == 'GET' and path == '/v2.1/servers/detail':
            return self._nova_detail(dict(query))
        if method == 'GET' and path == '/v2.1/servers':
            query = dict(query)
            if query.pop('all_tenants', None):
                if not self.admin:
                    return self._reply(403, {'forbidden': {
                        'code': 403, 'message': 'Policy doesn\'t allow '
                        'os_compute_api:servers:index:get_all_tenants to '
                        'be performed.'}})
                project = query.pop('project_id', [None])[0]
                sids = [sid for sid, srv in self.servers.items()
                        if project in (None, srv['tenant_id'])]
            else:
                query.pop('project_id', None)
                sids = [sid for sid, srv in self.servers.items()
                        if srv['tenant_id'] == self.caller_project]
            listed = [{'id': sid, 'name': 'server', 'links': []}
                      for sid in sids]
            return self._list('servers', listed, query, self.nova_page_cap,
                              NOVA + '/servers')
        match = re.fullmatch(r'/v2\.1/servers/([^/]+)', path)
        if method == 'GET' and match:
            sid = match.group(1)
            if not self._visible(sid):
                return self._reply(404, {'itemNotFound': {
                    'code': 404,
                    'message': 'Instance %s could not be found.' % sid}})
            return self._reply(200, {'server': self._server_body(sid)})
        raise AssertionError('unexpected Nova call %s %s' % (method, path))

    def _nova_detail(self, query):
        """The detailed list: only an admin may filter by ``uuid``.

        Asked for changes since a time, it includes deleted servers.
        """
        if query.pop('all_tenants', None) and not self.admin:
            return self._reply(403, {'forbidden': {
                'code': 403, 'message': 'Policy doesn\'t allow '
                'os_compute_api:servers:detail:get_all_tenants to be '
                'performed.'}})
        uuid_filter = query.pop('uuid', [None])[0]
        if not (self.admin and self.nova_uuid_filter):
            uuid_filter = None
        rows = dict(self.servers)
        if query.pop('changes-since', None):
            rows.update(self.deleted)
        status = query.pop('status', [None])[0]
        if status:
            rows = {k: v for k, v in rows.items() if v['status'] == status}
        listed = [self._server_body(sid, rows[sid]) for sid in sorted(rows)
                  if (self.admin or rows[sid]['tenant_id'] ==
                      self.caller_project) and
                  uuid_filter in (None, sid)]
        return self._list('servers', listed, query, self.nova_page_cap,
                          NOVA + '/servers/detail')

    def _server_body(self, sid, server=None):
        server = server or self.servers[sid]
        link = {'href': '%s/servers/%s' % (NOVA, sid), 'rel': 'self'}
        ref = {'id': '1', 'links': [{'href': 'http://x/1', 'rel':
                                     'bookmark'}]}
        body = {'id': sid, 'name': 'server', 'status': server['status'],
                'tenant_id': server['tenant_id'], 'user_id': 'user',
                'created': SERVER_CREATED,
                'updated': server.get('updated', SERVER_CREATED),
                'hostId': 'h', 'accessIPv4': '', 'accessIPv6': '',
                'addresses': {}, 'metadata': {}, 'progress': 0,
                'flavor': ref, 'image': ref, 'links': [link]}
        if server['status'] == 'DELETED':
            body['OS-SRV-USG:terminated_at'] = server.get('terminated_at',
                                                          self.clock)
        return body

    def _list(self, key, items, query, cap, url):
        """A list answer: capped pages say so with a next link."""
        query = dict(query)
        limit = int(query.pop('limit', ['0'])[0])
        if cap:
            limit = min(limit, cap) if limit else cap
        found = [i for i in self._filtered(items, query)
                 if i['id'] not in self.hidden]
        body = {key: found[:limit] if limit else found}
        if limit and len(found) >= limit:
            marker = found[limit - 1]['id']
            body[key + '_links'] = [{'rel': 'next', 'href': '%s?%s' % (
                url, urllib.parse.urlencode(dict(limit=limit,
                                                 marker=marker)))}]
        return self._reply(200, body)

    @staticmethod
    def _filtered(items, query):
        """Neutron's filters (repeatable), tags, and marker."""
        query = dict(query)
        query.pop('limit', None)
        marker = query.pop('marker', [None])[0]
        tags = query.pop('tags', [''])[0]
        query.pop('all_tenants', None)
        out = []
        for item in sorted(items, key=lambda i: i['id']):
            if marker is not None and item['id'] <= marker:
                continue
            if not all(str(item.get(k)) in v for k, v in query.items()):
                continue
            if tags and not set(tags.split(',')) <= set(item.get('tags')
                                                        or ()):
                continue
            out.append(copy.deepcopy(item))
        return out

    def _neutron(self, method, path, query, data, headers=None):
        parts = path.strip('/').split('/')[1:]
        kind = parts[0]
        match = (headers or {}).get('If-Match')
        self.if_match = None
        if match and method in ('PUT', 'DELETE'):
            if len(parts) != 2:
                # Neutron has no model for a member action's If-Match.
                return self._reply(500, neutron_error(
                    'HTTPInternalServerError', 'Request Failed: internal '
                    'server error while processing your request.'))
            self.if_match = int(match.split('=', 1)[1])
        if kind == 'ports':
            return self._ports(method, parts[1:], query, data)
        if kind == 'trunks':
            return self._trunks(method, parts[1:], query, data)
        if kind == 'extensions' and method == 'GET':
            if parts[1] in self.extensions:
                return self._reply(200, {'extension': {'alias': parts[1]}})
            return self._reply(404, neutron_error(
                'ExtensionNotFound', 'Extension %s could not be found.'
                % parts[1]))
        raise AssertionError('unexpected Neutron call %s %s' % (method,
                                                                path))

    def _stale(self, resource):
        """Neutron's 412 when If-Match names another revision.

        Checked where Neutron checks it: when the change is flushed,
        after policy (403) and the trunk rules (409).
        """
        if self.if_match is None or (
                resource['revision_number'] == self.if_match):
            return None
        return self._reply(412, neutron_error(
            'RevisionNumberConstraintFailed', 'Constrained to %s, but '
            'current revision is %s' % (self.if_match,
                                        resource['revision_number'])))

    def _port_view(self, port):
        """A port as Neutron shows it: a parent has ``trunk_details``.

        Its binding's host shows to an admin only.
        """
        if not self.admin:
            port = {k: v for k, v in port.items()
                    if k != 'binding:host_id'}
        if 'trunk-details' not in self.extensions:
            return port
        for trunk in self.trunks.values():
            if trunk['port_id'] == port['id']:
                return dict(port, trunk_details={
                    'trunk_id': trunk['id'],
                    'sub_ports': copy.deepcopy(trunk['sub_ports'])})
        return port

    def _port_not_found(self, pid):
        return self._reply(404, neutron_error(
            'PortNotFound', 'Port %s could not be found.' % pid))

    def _trunk_not_found(self, tid):
        return self._reply(404, neutron_error(
            'TrunkNotFound', 'Trunk %s could not be found.' % tid))

    def _ports(self, method, rest, query, data):
        if not rest and method == 'GET':
            return self._list('ports', [self._port_view(p) for p in
                                        self.ports.values()], query,
                              self.neutron_page_cap, NEUTRON + '/v2.0/ports')
        pid = rest[0]
        if pid not in self.ports:
            return self._port_not_found(pid)
        if method == 'GET':
            return self._reply(200, {'port': self._port_view(
                self.ports[pid])})
        if method == 'PUT':
            if 'binding:host_id' in data['port'] and not self.admin:
                return self._reply(403, neutron_error(
                    'PolicyNotAuthorized', 'rule:update_port:binding:'
                    'host_id is disallowed by policy'))
            stale = self._stale(self.ports[pid])
            if stale:
                return stale
            self.change(self.ports[pid], **data['port'])
            return self._reply(200, {'port': self._port_view(
                self.ports[pid])})
        if method == 'DELETE':
            if (self.compute_ports_admin_only and self.ports[pid][
                    'device_owner'].startswith('compute:')):
                return self._reply(403, neutron_error(
                    'PolicyNotAuthorized',
                    'rule:delete_port is disallowed by policy'))
            for trunk in self.trunks.values():
                if pid in [s['port_id'] for s in trunk['sub_ports']]:
                    return self._reply(409, neutron_error(
                        'PortInUseAsSubPort', 'Port %s is currently a '
                        'subport for trunk %s.' % (pid, trunk['id'])))
            for trunk in self.trunks.values():
                # Neutron looks for it among the caller's project's
                # trunks only, unless an admin asks.
                if trunk['port_id'] == pid and (
                        self.admin or
                        trunk['project_id'] == self.caller_project):
                    return self._reply(409, neutron_error(
                        'PortInUseAsTrunkParent', 'Port %s is currently a '
                        'parent port for trunk %s.' % (pid, trunk['id'])))
            stale = self._stale(self.ports[pid])
            if stale:
                return stale
            del self.ports[pid]
            # The trunks table's foreign key deletes its trunks with it.
            for tid in [t for t, trunk in self.trunks.items()
                        if trunk['port_id'] == pid]:
                del self.trunks[tid]
            return self._reply(204)
        raise AssertionError('unexpected port call %s' % method)

    def _trunks(self, method, rest, query, data):
        if not rest and method == 'GET':
            return self._list('trunks', self.trunks.values(), query,
                              self.neutron_page_cap,
                              NEUTRON + '/v2.0/trunks')
        tid = rest[0]
        trunk = self.trunks.get(tid)
        if trunk is None:
            return self._trunk_not_found(tid)
        action = rest[1] if len(rest) > 1 else None
        if method == 'GET' and action == 'get_subports':
            return self._reply(200, {'sub_ports': copy.deepcopy(
                trunk['sub_ports'])})
        if method == 'GET':
            return self._reply(200, {'trunk': trunk})
        if method == 'PUT' and action is None:
            stale = self._stale(trunk)
            if stale:
                return stale
            self.change(trunk, **data['trunk'])
            return self._reply(200, {'trunk': trunk})
        if not trunk['admin_state_up']:
            return self._reply(409, neutron_error(
                'TrunkDisabled', 'Trunk %s is currently disabled.' % tid))
        if method == 'PUT' and action == 'remove_subports':
            return self._remove_subports(trunk, data['sub_ports'])
        if method == 'PUT' and action == 'add_subports':
            return self._add_subports(trunk, data['sub_ports'])
        if method == 'DELETE':
            parent = self.ports.get(trunk['port_id'], {})
            if self.driver == 'ovs' and parent.get('binding:host_id'):
                return self._reply(409, neutron_error(
                    'TrunkInUse', 'Trunk %s is currently in use.' % tid))
            stale = self._stale(trunk)
            if stale:
                return stale
            if self.driver == 'ovn':
                # The OVN driver releases each subport: a new revision.
                for sub in trunk['sub_ports']:
                    self.change(self.ports[sub['port_id']], device_owner='')
            del self.trunks[tid]
            return self._reply(204)
        raise AssertionError('unexpected trunk call %s %s' % (method,
                                                              action))

    def _add_subports(self, trunk, wanted):
        for sub in wanted:
            if any(sub['port_id'] in [s['port_id'] for s in t['sub_ports']]
                   or t['port_id'] == sub['port_id']
                   for t in self.trunks.values()):
                return self._reply(409, neutron_error(
                    'PortInUseAsSubPort', 'Port %s is currently a subport '
                    'for trunk %s.' % (sub['port_id'], trunk['id'])))
        for sub in wanted:
            trunk['sub_ports'].append(dict(sub))
            self.ports[sub['port_id']]['device_owner'] = 'trunk:subport'
        if trunk['status'] != 'DOWN':
            self.change(trunk, status='DOWN')
        return self._reply(200, trunk)

    def _remove_subports(self, trunk, wanted):
        current = {s['port_id']: s for s in trunk['sub_ports']}
        for sub in wanted:
            if sub['port_id'] not in current:
                return self._reply(404, neutron_error(
                    'SubPortNotFound', 'SubPort %s on trunk %s could not be '
                    'found.' % (sub['port_id'], trunk['id'])))
        for sub in wanted:
            del current[sub['port_id']]
            if self.driver == 'ovn':
                self.ports[sub['port_id']]['device_owner'] = ''
        trunk['sub_ports'] = list(current.values())
        if trunk['status'] != 'DOWN':
            # Neutron bumps a trunk's revision on a status change only.
            self.change(trunk, status='DOWN')
        # Neutron answers with the trunk itself, not wrapped.
        return self._reply(200, trunk)
