// The ReplicationControl module: binlog positions, GTIDs, replica status, Aurora procedures, native replication
// and catch-up waits. Its types arrive with the ReplicationControl issue.
