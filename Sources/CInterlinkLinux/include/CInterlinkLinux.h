// The Linux system calls the purpose-built data plane uses that Swift's Glibc module leaves
// out (epoll, eventfd, accept4, pthread_setname_np). Nothing else: the data plane's logic is in Swift.
#ifndef C_INTERLINK_LINUX_H
#define C_INTERLINK_LINUX_H

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <pthread.h>

// accept4(2) is declared only under _GNU_SOURCE, which the Glibc module is built without.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
// Names the data-plane threads (seen in top -H, perf and gdb); also _GNU_SOURCE only.
extern int pthread_setname_np(pthread_t thread, const char *name);

static const unsigned int CInterlinkEpollIn = EPOLLIN;
static const unsigned int CInterlinkEpollOut = EPOLLOUT;
static const unsigned int CInterlinkEpollRdHup = EPOLLRDHUP;
static const unsigned int CInterlinkEpollErr = EPOLLERR;
static const unsigned int CInterlinkEpollHup = EPOLLHUP;
static const unsigned int CInterlinkEpollEt = EPOLLET;
#endif

#endif
