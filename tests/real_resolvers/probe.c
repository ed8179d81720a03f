/* One getaddrinfo(NAME) with SOCK_STREAM and AF_UNSPEC (or AF_INET when the
   second argument is "inet"); prints the outcome as JSON.
   Built with gcc (glibc) and with musl-gcc -static (musl). */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct addrinfo hints, *res = NULL, *ai;
	char text[INET6_ADDRSTRLEN];
	const char *sep = "";
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: probe NAME [inet]\n");
		return 2;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = argc == 3 && strcmp(argv[2], "inet") == 0 ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(argv[1], NULL, &hints, &res);
	printf("{\"rc\": %d, \"error\": \"%s\", \"addresses\": [", rc, rc ? gai_strerror(rc) : "");
	for (ai = res; rc == 0 && ai != NULL; ai = ai->ai_next) {
		const void *addr = ai->ai_family == AF_INET
			? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
			: (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		inet_ntop(ai->ai_family, addr, text, sizeof text);
		printf("%s\"%s\"", sep, text);
		sep = ", ";
	}
	printf("]}\n");
	if (res != NULL)
		freeaddrinfo(res);
	return 0;
}
