/*
 * A stand-in for the JENNIFER PHP agent, for jbuild's end-to-end tests.
 * Loaded like the real one (extension=.../jennifer5-php-X.Y.x-NTS.so and
 * jenniferAgent.agent_file_root=<dir> in an ini file), it reads
 * <agent_file_root>/jennifer.conf ("key = value") at module start-up and
 * sends one line to server_address:server_port. Nothing stays running.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "php.h"
#include "php_ini.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

PHP_INI_BEGIN()
	PHP_INI_ENTRY("jenniferAgent.agent_file_root", "", PHP_INI_SYSTEM, NULL)
PHP_INI_END()

static void trim(char *s)
{
	char *p = s, *e;
	while (*p == ' ' || *p == '\t') p++;
	memmove(s, p, strlen(p) + 1);
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
}

static void report(void)
{
	char path[4096], line[1024], addr[256] = "", port[16] = "5000", domain[32] = "1000", msg[128];
	const char *root = INI_STR("jenniferAgent.agent_file_root");
	FILE *f;
	struct sockaddr_in sa;
	int fd;

	if (root == NULL || *root == 0) {
		fprintf(stderr, "jbuild-test-agent: jenniferAgent.agent_file_root is not set\n");
		return;
	}
	snprintf(path, sizeof path, "%s/jennifer.conf", root);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "jbuild-test-agent: cannot read %s\n", path);
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char *eq = strchr(line, '=');
		trim(line);
		if (line[0] == '#' || eq == NULL) continue;
		*eq = 0;
		trim(line);
		trim(eq + 1);
		if (!strcmp(line, "server_address")) snprintf(addr, sizeof addr, "%s", eq + 1);
		else if (!strcmp(line, "server_port")) snprintf(port, sizeof port, "%s", eq + 1);
		else if (!strcmp(line, "domain_id")) snprintf(domain, sizeof domain, "%s", eq + 1);
	}
	fclose(f);
	fprintf(stderr, "jbuild-test-agent: config %s server %s:%s domain %s\n", path, addr, port, domain);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "jbuild-test-agent: server_address %s is not an IPv4 address\n", addr);
		return;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		int n = snprintf(msg, sizeof msg, "JENNIFER domain_id=%s agent=php\n", domain);
		if (write(fd, msg, n) == n)
			fprintf(stderr, "jbuild-test-agent: connected to %s:%s\n", addr, port);
	} else {
		fprintf(stderr, "jbuild-test-agent: cannot connect to %s:%s\n", addr, port);
	}
	close(fd);
}

PHP_MINIT_FUNCTION(jbuildtest)
{
	REGISTER_INI_ENTRIES();
	report();
	return SUCCESS;
}

PHP_MSHUTDOWN_FUNCTION(jbuildtest)
{
	UNREGISTER_INI_ENTRIES();
	return SUCCESS;
}

zend_module_entry jbuildtest_module_entry = {
	STANDARD_MODULE_HEADER,
	"jbuildtest",
	NULL,
	PHP_MINIT(jbuildtest),
	PHP_MSHUTDOWN(jbuildtest),
	NULL,
	NULL,
	NULL,
	"0.0.1",
	STANDARD_MODULE_PROPERTIES
};

ZEND_GET_MODULE(jbuildtest)
