#!/bin/bash
# devstack plugin: run "trunk-cleanup watch" as a devstack service, so the
# cloud removes the trunk of every server it deletes, and tell tempest so
# ([trunk_cleanup] expected_after_server_delete = removed).
#
#   enable_plugin trunk-cleanup-tempest https://opendev.org/x/trunk-cleanup-tempest
#
# doc/source/watch.rst describes the service; this is its deployment on
# devstack: a config file with its credentials and the bus, nothing secret
# on the command line, and a systemd unit (devstack@trunk-cleanup-watch).

function install_trunk_cleanup {
    setup_develop $TRUNK_CLEANUP_DIR
}

function configure_trunk_cleanup {
    sudo install -d -o $STACK_USER -m 700 $TRUNK_CLEANUP_CONF_DIR \
        $TRUNK_CLEANUP_STATE_DIR
    rm -f $TRUNK_CLEANUP_CONF
    # It cleans every project's trunks: an admin.
    create_service_user $TRUNK_CLEANUP_USER admin
    configure_keystoneauth $TRUNK_CLEANUP_CONF $TRUNK_CLEANUP_USER \
        trunk_cleanup_watch
    iniset $TRUNK_CLEANUP_CONF trunk_cleanup_watch region_name $REGION_NAME
    # The bus Nova's computes send notifications on: not their cell's RPC
    # virtual host, which is [DEFAULT] transport_url in nova-cpu.conf.
    iniset $TRUNK_CLEANUP_CONF oslo_messaging_notifications transport_url \
        "$(iniget $NOVA_CONF oslo_messaging_notifications transport_url)"
    chmod 600 $TRUNK_CLEANUP_CONF
}

function start_trunk_cleanup {
    run_process trunk-cleanup-watch "$(get_python_exec_prefix)/trunk-cleanup \
watch --config-file $TRUNK_CLEANUP_CONF \
--state-dir $TRUNK_CLEANUP_STATE_DIR $TRUNK_CLEANUP_WATCH_ARGS"
}

function configure_tempest_for_trunk_cleanup {
    iniset $TEMPEST_CONFIG trunk_cleanup expected_after_server_delete removed
}

if is_service_enabled trunk-cleanup-watch; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing trunk-cleanup"
        install_trunk_cleanup
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring trunk-cleanup watch"
        configure_trunk_cleanup
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting trunk-cleanup watch"
        start_trunk_cleanup
    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        if is_service_enabled tempest; then
            configure_tempest_for_trunk_cleanup
        fi
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_process trunk-cleanup-watch
    fi
    if [[ "$1" == "clean" ]]; then
        sudo rm -rf $TRUNK_CLEANUP_CONF_DIR $TRUNK_CLEANUP_STATE_DIR
    fi
fi
