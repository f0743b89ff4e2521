/// The commented example that `migrate-cli init` writes. It loads as is (tests check it), and every field it shows
/// is in ``ConfigurationSchema``.
enum ExampleConfiguration {
    static let text = """
        # migrate-cli configuration: moving a live MySQL primary behind ProxySQL to Amazon Aurora MySQL.
        #
        # Every field can also be set by environment variable or flag (flag > environment > this file > default):
        #   --set policy.drain-deadline=300ms        MIGRATE_POLICY_DRAIN_DEADLINE=300ms
        #   --set proxysql.nodes.proxysql-1.port=6033  MIGRATE_PROXYSQL_NODES_PROXYSQL_1_PORT=6033
        # `migrate-cli config keys` lists every field; `migrate-cli config show` prints the result and where each
        # value came from; `migrate-cli config check` also reads every password source.
        #
        # Passwords are never written here nor given on the command line. Each account names where its password is:
        #   password-env: VARIABLE        an environment variable
        #   password-file: /path          the first line of a file that only its owner can read (chmod 600)
        #   login-path: NAME              a login path made with `mysql_config_editor set --login-path=NAME ...`
        #   option-file: /path            a MySQL option file ([client], or the group named by option-group)
        # Relative paths are relative to this file's directory. Durations: 500ms, 2s, 1m, 1m30s.
        version: 1

        # The live MySQL primary (on-premises or RDS), as this machine reaches it.
        source:
          host: 10.0.0.5                 # not `localhost`: the client library would use the Unix socket
          port: 3306
          user: migrate_admin
          password-env: MIGRATE_SOURCE_PASSWORD
          # tls:
          #   mode: verify-identity      # disabled | required | verify-identity
          #   ca-file: /etc/ssl/certs/ca-certificates.crt
          # The source's read endpoint (a replica), if ProxySQL sends reads there; without it the source reader
          # row is the primary itself in the reader hostgroup.
          # reader:
          #   host: 10.0.0.6
          #   port: 3306

        # Aurora MySQL: the cluster (writer) endpoint and the reader endpoint.
        target:
          writer:
            host: mydb.cluster-abc123xyz.eu-west-1.rds.amazonaws.com
            port: 3306
          reader:
            host: mydb.cluster-ro-abc123xyz.eu-west-1.rds.amazonaws.com
            port: 3306
          user: admin
          password-env: MIGRATE_TARGET_PASSWORD
          # Aurora accepts TLS; verify it against the RDS bundle:
          #   curl -o rds-global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
          # tls:
          #   mode: verify-identity
          #   ca-file: rds-global-bundle.pem

        # The ProxySQL nodes that front the application, by name. A cut-over changes every one of them (in this
        # order) and verifies each node's runtime.
        proxysql:
          hostgroups:
            writer: 10
            reader: 11
          nodes:
            proxysql-1:
              host: 10.0.0.10
              port: 6032                 # the admin interface
              user: radmin
              password-env: MIGRATE_PROXYSQL_ADMIN_PASSWORD
            # proxysql-2:
            #   host: 10.0.0.11
            #   port: 6032
            #   user: radmin
            #   password-file: secrets/proxysql-2.password
          # The mysql_servers rows of each role. By default they derive from the endpoints above and the
          # hostgroups; set a field only where ProxySQL knows a server by another name or port.
          # rows:
          #   source:
          #     writer: { hostgroup: 10, host: db-primary.internal, port: 3306 }
          #     reader: { hostgroup: 11, host: db-replica.internal, port: 3306 }
          #   target:
          #     writer: { host: mydb.cluster-abc123xyz.eu-west-1.rds.amazonaws.com }
          #     reader: { host: mydb.cluster-ro-abc123xyz.eu-west-1.rds.amazonaws.com }

        replication:
          # Aurora replicates from the source (mysql.rds_set_external_master/source). host/port: how Aurora
          # reaches the source (default: source.host and source.port).
          forward:
            user: repl_aurora
            password-env: MIGRATE_FORWARD_REPLICATION_PASSWORD
            tls: required                # ssl_encryption = 1 when a failback re-points Aurora at the source
          # After the writer switch the source replicates from Aurora, so a failback loses nothing. host/port:
          # how the source reaches Aurora (default: target.writer). `migrate-cli reverse-user create` makes the
          # account with exactly the grants it needs.
          reverse:
            user: repl_reverse
            password-env: MIGRATE_REVERSE_REPLICATION_PASSWORD
            tls: required                # MASTER_SSL = 1 (disabled: only on a trusted network path)
            filter: rds-tables           # ignore Aurora's mysql.rds_* tables (or: mysql-schema)

        # The knobs of a switch. Every wait has a deadline.
        policy:
          lag-budget: 5s                 # guards refuse to start above this replication lag (a refusal, not a promise)
          drain-deadline: 500ms          # in-flight transactions get this long after OFFLINE_SOFT
          drain-poll-interval: 2ms
          drain-deadline-policy: roll-back   # roll-back: old writer back ONLINE; force: cut sessions that hold on
          catch-up-deadline: 2s          # the new writer must execute the final position within this
          fence-old-writer: true         # read_only on the old writer after OFFLINE_HARD (not possible on Aurora)
          fence-timeout: 500ms
          disable-query-retries: true    # no ProxySQL retry during the window: no write applied twice
          auto-increment-pin: auto       # relax: sessions that inserted AUTO_INCREMENT rows can drain, but an app
                                         # reading LAST_INSERT_ID() in a separate statement may read the other server;
                                         # auto: relax only when stats_mysql_query_digest shows no LAST_INSERT_ID()
          pinned-sessions: cut           # cut: idle pinned sessions get 2013 on their next statement and reconnect to
                                         # the new writer; wait: wait for them until the drain deadline
          auto-increment-pin-settle: 200ms   # with relax: before OFFLINE_SOFT, let pins taken earlier run out (0: no wait)
          replication-settle-threshold: 10ms  # writer switch: before OFFLINE_SOFT, wait until one wait on the new writer
                                         # for the old one's current position takes at most this (0: no settle)
          replication-settle-deadline: 10s   # not settled by then: roll back, reporting the measured lag
          shunned-writer-watch: 500ms    # writer switch, after the new writer's ONLINE: watch ProxySQL for it SHUNNED
                                         # (clients' connects failed: max_connections, a restart); re-load where it is
                                         # once a login to it succeeds, up to 3s (0: no watch)
          shunned-writer-reloads: 2      # at most this many of those re-LOADs per switch (0: watch and report only)
          long-transaction-limit: 3s
          admin-statement-timeout: 2s
          replication-step-timeout: 30s  # Aurora's procedures sleep 1-3 s each; they run off the critical path

        # Every action and outcome of a run, appended and flushed before the next step: the audit trail, and what
        # `migrate-cli resume` continues from. Keep it on durable storage.
        journal:
          path: migrate-journal.jsonl

        # Application accounts: the ProxySQL users whose routing the guards judge (empty: every user). On the old
        # writer at OFFLINE_HARD every client session is closed, whatever its account (a privileged one passes
        # read_only); system and replication threads and the tool's own session are never closed.
        application:
          users: []

        # The canary: an application-like account that writes a heartbeat row every few milliseconds through one
        # ProxySQL data port during the switch; the run reports the longest time without an acknowledged write (the
        # number to watch: what clients saw, not the tool's own window). It writes (a table it creates through the
        # proxy and drops afterwards), so it is off unless enabled; the account needs CREATE, INSERT and DROP on the
        # database (checked before anything changes).
        canary:
          enabled: false
        # host: 10.0.0.10                # a ProxySQL data port the application uses
        # port: 6033
        # user: app_canary
        # password-env: MIGRATE_CANARY_PASSWORD
        # database: app
        # table: cutover_canary
        # interval: 5ms
        # write-timeout: 15s

        """
}
