// Sockets: accept4(2) is declared only under _GNU_SOURCE, so the Swift Glibc module does not import it.
#ifndef CNODESHIM_SOCKET_H
#define CNODESHIM_SOCKET_H

struct sockaddr;
/// accept4(fd, addr, len, SOCK_CLOEXEC | SOCK_NONBLOCK): TCPStream waits with poll itself.
int nodeinit_accept_stream(int fd, struct sockaddr *address, unsigned int *length);

#endif
