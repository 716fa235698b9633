# A stand-in for jennifer-python's admin/sitecustomize.py, for jbuild's
# end-to-end tests: found through PYTHONPATH, it reads JENNIFER_CONFIG_FILE
# ([JENNIFER] server_address, server_port, domain_id) and connects to the
# data server from a daemon thread, so the app starts at once.
import configparser
import os
import socket
import sys
import threading


def _connect(addr, port, domain):
    try:
        with socket.create_connection((addr, port), timeout=5) as s:
            s.sendall(('JENNIFER domain_id=%s agent=python\n' % domain).encode())
        sys.stderr.write('jbuild-test-agent: connected to %s:%d\n' % (addr, port))
    except OSError as e:
        sys.stderr.write('jbuild-test-agent: cannot connect to %s:%d: %s\n' % (addr, port, e))
    sys.stderr.flush()


def _start():
    path = os.environ.get('JENNIFER_CONFIG_FILE', '')
    conf = configparser.ConfigParser()
    if not conf.read(path):
        sys.stderr.write('jbuild-test-agent: cannot read JENNIFER_CONFIG_FILE=%r\n' % path)
        return
    sec = conf['JENNIFER']
    addr = sec.get('server_address', '')
    port = int(sec.get('server_port', '5000'))
    domain = sec.get('domain_id', '1000')
    threading.Thread(target=_connect, args=(addr, port, domain), daemon=True).start()


_start()
