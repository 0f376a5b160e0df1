/* nm_sock - socket helpers shared by the RPC client, the reach checks and
 * the daemon's socket: connect with a deadline, addresses as text. */
#ifndef NM_SOCK_H
#define NM_SOCK_H

#include <stddef.h>
#include <sys/socket.h>

/* Non-blocking connect of an already created socket to addr, waiting at most
 * deadline_ms.  Returns 0 or a negative errno (-ETIMEDOUT on the deadline). */
int nm_sock_connect(int fd, const struct sockaddr *addr, socklen_t len, int deadline_ms);

/* Format addr as text, "[v6]:port" style when port is non-zero. */
void nm_sock_addr_str(const struct sockaddr *addr, char *buf, size_t len, int with_port);

#endif
