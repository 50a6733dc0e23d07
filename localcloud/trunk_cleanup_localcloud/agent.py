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

"""Report an Open vSwitch agent's state to Neutron, as the real agent does.

Runs inside the services' virtualenv. ML2's openvswitch mechanism driver
binds a port only on a host with a live Open vSwitch agent. This process
registers one through Neutron's own RPC (``PluginReportStateAPI``, the
call neutron-openvswitch-agent makes every ``report_interval``), so Neutron
creates the agent, ages it, and declares it dead if this process stops.
It wires no datapath: ports bind, but ports and trunks stay DOWN.

Usage: python agent.py --config-file neutron.conf [--config-file ...]
"""

import signal
import sys
import threading

from neutron.agent import rpc as agent_rpc
from neutron.api.rpc.callbacks import resources
from neutron.common import config as common_config
from neutron.conf.agent import common as agent_config
from neutron_lib.agent import topics
from neutron_lib import constants as n_const
from neutron_lib import context
from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger('localcloud-ovs-agent')


def agent_state(host):
    return {
        'binary': n_const.AGENT_PROCESS_OVS,
        'host': host,
        'topic': n_const.L2_AGENT_TOPIC,
        'agent_type': n_const.AGENT_TYPE_OVS,
        'start_flag': True,
        'resource_versions': resources.LOCAL_RESOURCE_VERSIONS,
        'configurations': {
            'bridge_mappings': {},
            'integration_bridge': 'br-int',
            'tunnel_types': ['vxlan'],
            'tunneling_ip': '127.0.0.1',
            'l2_population': False,
            'arp_responder_enabled': False,
            'enable_distributed_routing': False,
            'extensions': [],
            'datapath_type': 'system',
            'ovs_capabilities': {'datapath_types': ['system'],
                                 'iface_types': ['internal', 'vxlan']},
            'ovs_hybrid_plug': False,
            'devices': 0,
        },
    }


def main():
    common_config.register_common_config_options()
    agent_config.register_agent_state_opts_helper(cfg.CONF)
    common_config.init(sys.argv[1:])
    common_config.setup_logging()
    state = agent_state(cfg.CONF.host)
    interval = cfg.CONF.AGENT.report_interval
    rpc = agent_rpc.PluginReportStateAPI(topics.REPORTS)
    ctx = context.get_admin_context_without_session()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    LOG.info('reporting Open vSwitch agent state for host %s every %ss',
             state['host'], interval)
    while not stop.is_set():
        try:
            rpc.report_state(ctx, state, use_call=True)
            state.pop('start_flag', None)
            state.pop('resource_versions', None)
        except Exception:
            LOG.exception('failed to report state; trying again')
        stop.wait(interval)


if __name__ == '__main__':
    main()
