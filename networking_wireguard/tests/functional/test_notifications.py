# hubs_changed fanouts on q-wireguard-notifier, received as an agent receives them.


def test_hubs_changed(api, alive_agent, make_hub, make_spoke):
    hub = make_hub()
    assert alive_agent.wait_notification(lambda ids: ids == [hub['id']])
    other = make_hub()
    spoke = make_spoke([hub, other])
    both = sorted([hub['id'], other['id']])
    assert alive_agent.wait_notification(lambda ids: ids == both)
    api.update('port', spoke['id'], admin_state_up=False)
    assert alive_agent.wait_notification(lambda ids: ids == both)
    api.delete('port', spoke['id'])
    assert alive_agent.wait_notification(lambda ids: ids == both)
    api.delete('port', hub['id'])
    assert alive_agent.wait_notification(lambda ids: ids == [hub['id']])
