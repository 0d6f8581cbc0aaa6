/* SPDX-License-Identifier: ISC */
/* The control socket: peer credentials and what they allow (control_int.h). */
#include "daemon/control/control_int.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* Root and the daemon's own user: no per-uid limit, and the reserved
 * slots are theirs. */
bool ctl_privileged(unsigned uid)
{
	return uid == 0 || uid == (unsigned)geteuid();
}

enum xd_access xd_control_access(const struct xd_peer *peer, unsigned self_uid,
				 bool have_group, unsigned socket_gid)
{
	if (peer->uid == 0 || peer->uid == self_uid)
		return XD_ACCESS_ALL;
	if (!have_group)
		return XD_ACCESS_NONE;
	if (peer->gid == socket_gid)
		return XD_ACCESS_READ;
	for (size_t i = 0; i < peer->n_groups; i++)
		if (peer->groups[i] == socket_gid)
			return XD_ACCESS_READ;
	return XD_ACCESS_NONE;
}

#if defined(SO_PEERCRED)
/* Linux: credentials and supplementary groups straight from the kernel,
 * no name-service lookups on the daemon's path. */
int ctl_peer_credentials(int fd, struct xd_peer *peer, unsigned *groups)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -1;
	peer->uid = uc.uid;
	peer->gid = uc.gid;
	peer->pid = uc.pid;
	peer->n_groups = 0;
	peer->groups = groups;
#ifdef SO_PEERGROUPS
	gid_t g[PEER_GROUPS_MAX];
	socklen_t glen = sizeof(g);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &glen) == 0) {
		peer->n_groups = glen / sizeof(gid_t);
		for (size_t i = 0; i < peer->n_groups; i++)
			groups[i] = g[i];
	}
#endif
	return 0;
}
#else
/* NetBSD & co.: getpeereid(), supplementary groups from the group
 * database of the peer's user. */
int ctl_peer_credentials(int fd, struct xd_peer *peer, unsigned *groups)
{
	uid_t uid;
	gid_t gid;
	if (getpeereid(fd, &uid, &gid) < 0)
		return -1;
	peer->uid = uid;
	peer->gid = gid;
	peer->pid = -1;
	peer->groups = groups;
	peer->n_groups = 0;
	char buf[4096];
	struct passwd pw, *res = NULL;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return 0;
	gid_t g[PEER_GROUPS_MAX];
	int n = PEER_GROUPS_MAX;
	if (getgrouplist(pw.pw_name, gid, g, &n) < 0)
		n = PEER_GROUPS_MAX;
	for (int i = 0; i < n; i++)
		groups[i] = g[i];
	peer->n_groups = (size_t)n;
	return 0;
}
#endif
