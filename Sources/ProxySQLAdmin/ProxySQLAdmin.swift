// The ProxySQLAdmin module: typed operations on ProxySQL's admin interface. Its types arrive with the
// ProxySQLAdmin issue.
