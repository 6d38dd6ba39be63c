# A hub added to a router (issue 6, server side) on a real neutron-server.


def test_router_attach_and_detach(api, project, alive_agent, make_hub, make_spoke):
    hub = make_hub()
    spoke = make_spoke([hub])
    router = api.create('router', name='wgf-router', project_id=project)
    try:
        answer = api.router_interface(router['id'], 'add', spoke['id'], expected=409)
        assert 'a spoke is a peer outside Neutron' in answer['NeutronError']['message']
        assert api.show('port', spoke['id'])['device_owner'] == 'channel:wireguard:spoke'

        api.router_interface(router['id'], 'add', hub['id'])
        port = api.show('port', hub['id'])
        assert port['device_owner'] == 'network:router_interface'
        assert port['binding:vif_type'] == 'wireguard'
        hubs = alive_agent.call('get_hubs', host=alive_agent.host,
                                hub_ids=[hub['id']])['hubs']
        assert hubs[0]['router_id'] == router['id']
        assert [s['id'] for s in hubs[0]['spokes']] == [spoke['id']]

        # Zed's remove_router_interface deletes the port: the agent is told
        while not alive_agent.notifications.empty():
            alive_agent.notifications.get()
        api.router_interface(router['id'], 'remove', hub['id'])
        api.show('port', hub['id'], expected=404)
        assert alive_agent.wait_notification(lambda ids: ids == [hub['id']])
        assert alive_agent.call('get_hubs', host=alive_agent.host,
                                hub_ids=[hub['id']]) == {'hubs': []}
    finally:
        api.request('PUT', '/routers/%s/remove_router_interface' % router['id'],
                    {'port_id': hub['id']})
        api.delete('router', router['id'])
