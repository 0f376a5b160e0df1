#include "nm_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>

#include "nm_time.h"

void nm_sock_addr_str(const struct sockaddr *addr, char *buf, size_t len, int with_port)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)addr;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
	}
	if (!with_port)
		snprintf(buf, len, "%s", host);
	else if (addr->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, port);
	else
		snprintf(buf, len, "%s:%u", host, port);
}

int nm_sock_connect(int fd, const struct sockaddr *addr, socklen_t len, int deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int flags, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);
	int64_t end = nm_time_ms() + deadline_ms;

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	rc = connect(fd, addr, len);
	if (rc < 0 && errno != EINPROGRESS)
		return -errno;
	while (rc < 0) {
		int64_t left = end - nm_time_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			return -EINTR;
		if (rc < 0)
			return -errno;
		if (rc == 0)
			return -ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			return -errno;
		if (soerr)
			return -soerr;
	}
	if (fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	return 0;
}
