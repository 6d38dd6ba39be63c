# Clients of the real neutron-server started by scripts/lib/neutron.sh: its REST API (noauth, so
# every request is admin and names its project_id) and its RPC bus, as a WireGuard agent sees it.

import base64
import datetime
import os
import queue
import time

from oslo_config import cfg
import oslo_messaging
import requests


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


class NeutronApi(object):

    def __init__(self, url):
        self.url = url.rstrip('/') + '/v2.0'
        self.session = requests.Session()
        self.session.headers['Content-Type'] = 'application/json'

    def request(self, method, path, body=None, expected=None):
        res = self.session.request(method, self.url + path, json=body, timeout=60)
        data = res.json() if res.content else None
        if expected is not None:
            assert res.status_code == expected, (method, path, res.status_code, data)
        return res.status_code, data

    def create(self, resource, expected=201, **attrs):
        status, body = self.request('POST', '/%ss' % resource, {resource: attrs},
                                    expected=expected)
        return body[resource] if status == 201 else body

    def show(self, resource, id_, expected=200):
        status, body = self.request('GET', '/%ss/%s' % (resource, id_),
                                    expected=expected)
        return body[resource] if status == 200 else body

    def update(self, resource, id_, expected=200, **attrs):
        status, body = self.request('PUT', '/%ss/%s' % (resource, id_),
                                    {resource: attrs}, expected=expected)
        return body[resource] if status == 200 else body

    def delete(self, resource, id_, expected=204):
        return self.request('DELETE', '/%ss/%s' % (resource, id_),
                            expected=expected)[0]

    def list(self, resource, **filters):
        return self.session.get('%s/%ss' % (self.url, resource), params=filters,
                                timeout=60).json()['%ss' % resource]

    def router_interface(self, router_id, action, port_id, expected=200):
        return self.request('PUT', '/routers/%s/%s_router_interface' % (
            router_id, action), {'port_id': port_id}, expected=expected)[1]


class AgentRpc(object):
    """What a WireGuard agent on `host` does over oslo.messaging."""

    def __init__(self, transport_url, host):
        self.host = host
        # Neutron's exchange; with oslo's default ('openstack') calls go nowhere.
        oslo_messaging.set_transport_defaults('neutron')
        self.transport = oslo_messaging.get_rpc_transport(cfg.CONF, url=transport_url)
        self.wireguard = self._client('q-wireguard', '1.3')
        self.reports = self._client('q-reports-plugin', '1.2')
        self.plugin = self._client('q-plugin', '1.9')
        self._listener = None
        self.notifications = queue.Queue()

    def _client(self, topic, version):
        return oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(topic=topic, version=version),
            timeout=60)

    def call(self, method, version='1.3', **kwargs):
        return self.wireguard.prepare(version=version).call({}, method, **kwargs)

    def get_hubs(self, hub_ids=None, digests=None, version=None, host=None):
        """get_hubs as the agent calls it: 1.4 when it sends digests, else 1.3."""
        args = {'host': host or self.host, 'hub_ids': hub_ids}
        if digests is not None:
            args['digests'] = digests
        return self.call('get_hubs', version=version or (
            '1.3' if digests is None else '1.4'), **args)

    def report_state(self, host=None, configurations=None):
        state = {'binary': 'neutron-wireguard-agent', 'host': host or self.host,
                 'topic': 'q-wireguard-notifier', 'agent_type': 'wireguard agent',
                 'configurations': configurations or {}, 'start_flag': True}
        now = datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%S.%f')
        return self.reports.call({}, 'report_state',
                                 agent_state={'agent_state': state}, time=now)

    def devices_up(self, *port_ids):
        return self.plugin.call({}, 'update_device_list', devices_up=list(port_ids),
                                devices_down=[], agent_id='wg-' + self.host,
                                host=self.host)

    def listen(self):
        """Consume hubs_changed fanouts as an agent does."""
        received = self.notifications

        class Endpoint(object):
            target = oslo_messaging.Target(version='1.0')

            def hubs_changed(self, ctxt, hub_ids):
                received.put(hub_ids)

        self._listener = oslo_messaging.get_rpc_server(
            self.transport,
            oslo_messaging.Target(topic='q-wireguard-notifier', server=self.host),
            [Endpoint()], executor='threading')
        self._listener.start()

    def wait_notification(self, matching, timeout=20):
        """The first hub_ids list for which matching(hub_ids) is true, else None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                hub_ids = self.notifications.get(timeout=0.5)
            except queue.Empty:
                continue
            if matching(hub_ids):
                return hub_ids
        return None

    def close(self):
        if self._listener:
            self._listener.stop()
            self._listener.wait()
        self.transport.cleanup()
