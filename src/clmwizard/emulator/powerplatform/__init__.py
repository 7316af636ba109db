"""A local Power Platform beside the local DocuSign: Entra ID (what MSAL needs), the Power Apps
API (custom connectors and their connections per environment), a consent service, the Flow API
(environments, cloud flows, runs) with a runner, and blob storage for icons, all over TLS with a
CA made for each emulator start (see `tls`). Connections: `connections`; the consent service:
`consent`; flows: `flows`; runs and the clock-driven Recurrence: `runner`; the unconfirmed
behaviours: `records.Switches`.

Carries its own knowledge, from the reference (power-platform.md) and from what MSAL and
paconn send; imports nothing from the client core. Unconfirmed facts are marked in the code.

    with Emulator() as emu:
        pp = emu.power_platform
        pp.authority            # MSAL authority (instance_discovery=False), https
        pp.tenant, pp.client_id, pp.client_secret      # a service principal's test values
        pp.public_client_id     # the Azure CLI's client id (paconn's default); also accepted:
                                #   service.APP_REGISTRATION_CLIENT_ID ("your own app")
        pp.power_apps_url, pp.flow_url, pp.environments, pp.default_environment
        pp.consent_url          # the consent service; connectors' redirect URLs point here
        pp.ca_cert              # PEM: trust it (and only it) to reach these origins
        pp.user_oid, pp.user_principal_name, pp.service_principal_oid
        pp.info()               # the JSON line's "power_platform" object

Test controls (Python; over HTTP as POST/GET {auth_server}/_emulator/powerplatform/...):

    pp.approve_device_code(user_code=None)      POST device-codes/approve {"user_code": …}
    pp.decline_device_code(user_code=None)      POST device-codes/decline
    pp.pending_device_codes()                   GET  device-codes
    pp.issued_device_codes()                    (every code issued, whatever its state)
    pp.forget_device_code(user_code=None)       (its next poll: bad_verification_code)
    pp.set_policies(admin_consent_required=, conditional_access_blocked=,
                    auto_approve_device_codes=,
                    certification_rules=, device_code_interval=, subdomain_blob_urls=)
                                                POST policies {…}
    pp.set_maker(environment, allowed)          POST makers {"environment", "allowed"}
    pp.set_behaviour(page_size=, honour_custom_filter=, patch_answer=, validation_format=,
                     validation_findings=, refuse_display_name_update=,
                     global_as_per_connector=, flow_refuses_app_tokens=)
                                                POST behaviour {…}  (the T/U behaviours)
    pp.revoke_access_tokens()                   issued access tokens stop working
    pp.add_environment(display_name)            POST environments {"display_name"}
    pp.connectors(environment=None)             GET  connectors   (stored, with secrets)
    pp.blob(url)                                the bytes behind a blob URL it handed out
    pp.set_platform(**switches)                 POST platform {…}; GET platform: them all
        token_client_auth "basic"|"body", consent_finish "service"|"confirm",
        refresh_when "expired"|"always", refresh_on_read,
        action_outputs "link"|"inline", premium_licence, run_delay (s), runs_page_size,
        recurrence_fires_on_start, apply_parameter_defaults, max_runs_per_jump,
        auto_register_redirects (records.Switches says what each is and why)
    pp.connections(), pp.flows()                GET connections, GET flows (statuses, runs)
    pp.redirect_urls()                          GET redirect-urls
    pp.advance_clock(s) (= emu.advance_clock)   fires due Recurrence triggers at their times
    browser.follow_consent_link(link, "accept"|"decline", ca_cert=pp.ca_cert)
                                                a person following a consent link
    {entra}/devicelogin                         the verification page: enter the code, then
                                                Approve or Decline (a browser must accept
                                                the emulator's CA or its warning first)
    emu.advance_clock(s), emu.inject_fault("entra"|"powerapps"|"flow"|"blob", prefix, …)
"""
