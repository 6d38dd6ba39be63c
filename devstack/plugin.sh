#!/bin/bash
# devstack plugin for networking-wireguard: installs the Python package (ML2 mechanism driver
# "wireguard", its DB migrations, the L3 agent extension) where neutron-server runs, builds and runs
# the C++ neutron-wireguard-agent as service wg-agt, and enables the L3 agent extension with q-l3.

function install_networking_wireguard {
    setup_develop $NETWORKING_WIREGUARD_DIR
}

function install_wireguard_agent {
    install_package $WIREGUARD_AGENT_BUILD_PACKAGES $WIREGUARD_AGENT_RUNTIME_PACKAGES
    cmake -S $NETWORKING_WIREGUARD_DIR -B $NETWORKING_WIREGUARD_BUILD_DIR -G Ninja \
        -DCMAKE_BUILD_TYPE=Release -DNWG_TESTS=OFF -DNWG_BENCHMARKS=OFF
    cmake --build $NETWORKING_WIREGUARD_BUILD_DIR
    sudo cmake --install $NETWORKING_WIREGUARD_BUILD_DIR --prefix /usr/local
}

function configure_wireguard_agent {
    local sample=$NETWORKING_WIREGUARD_DIR/etc/neutron/plugins/ml2/wireguard_agent.ini.sample
    sudo install -d -o $STACK_USER $(dirname $WIREGUARD_AGENT_CONF)
    if [[ -f $sample ]]; then
        cp $sample $WIREGUARD_AGENT_CONF
    else
        touch $WIREGUARD_AGENT_CONF
    fi
    iniset $WIREGUARD_AGENT_CONF DEFAULT host $(get_hostname)
    iniset $WIREGUARD_AGENT_CONF wireguard endpoint $WIREGUARD_ENDPOINT
    iniset $WIREGUARD_AGENT_CONF wireguard backend $WIREGUARD_BACKEND
    iniset $WIREGUARD_AGENT_CONF wireguard state_path $WIREGUARD_STATE_PATH
    sudo install -d -m 0700 $WIREGUARD_STATE_PATH
}

function configure_wireguard_mechanism_driver {
    # in case Q_ML2_PLUGIN_MECHANISM_DRIVERS was set after settings was read
    local drivers
    drivers=$(iniget /$Q_PLUGIN_CONF_FILE ml2 mechanism_drivers)
    if [[ ",$drivers," != *,wireguard,* ]]; then
        iniset /$Q_PLUGIN_CONF_FILE ml2 mechanism_drivers wireguard${drivers:+,$drivers}
    fi
}

function configure_wireguard_l3_extension {
    local extensions
    extensions=$(iniget $Q_L3_CONF_FILE agent extensions)
    if [[ ",$extensions," != *,wireguard,* ]]; then
        iniset $Q_L3_CONF_FILE agent extensions ${extensions:+$extensions,}wireguard
    fi
}

function start_wireguard_agent {
    # root: the agent creates WireGuard devices and moves them between network namespaces
    run_process wg-agt "$WIREGUARD_AGENT_BINARY --config-file $NEUTRON_CONF --config-file $WIREGUARD_AGENT_CONF" "" root
}

if [[ "$1" == "stack" ]]; then
    case "$2" in
        install)
            if is_service_enabled q-svc neutron-api q-l3 neutron-l3; then
                echo_summary "Installing networking-wireguard (ML2 driver, L3 extension)"
                install_networking_wireguard
            fi
            if is_service_enabled wg-agt; then
                echo_summary "Building neutron-wireguard-agent"
                install_wireguard_agent
            fi
            ;;
        post-config)
            if is_service_enabled q-svc neutron-api; then
                configure_wireguard_mechanism_driver
            fi
            if is_service_enabled q-l3 neutron-l3; then
                configure_wireguard_l3_extension
            fi
            if is_service_enabled wg-agt; then
                configure_wireguard_agent
            fi
            ;;
        extra)
            if is_service_enabled wg-agt; then
                start_wireguard_agent
            fi
            ;;
    esac
fi

if [[ "$1" == "unstack" ]]; then
    if is_service_enabled wg-agt; then
        stop_process wg-agt
    fi
fi

if [[ "$1" == "clean" ]]; then
    if is_service_enabled wg-agt; then
        sudo rm -f $WIREGUARD_AGENT_BINARY
    fi
fi
