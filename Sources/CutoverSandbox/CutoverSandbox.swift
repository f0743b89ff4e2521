// The sandbox: local MariaDB servers, the Aurora procedure shim, the ProxySQL emulator, write load.
