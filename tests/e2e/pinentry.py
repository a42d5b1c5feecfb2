#!/usr/bin/python3
"""A scripted pinentry for the end-to-end tests (GnuPG's Assuan protocol).

Answers each GETPIN / CONFIRM with the next line of the script file
$LLAVERO_TEST_PINENTRY_SCRIPT, across processes (the position is kept in
SCRIPT.pos):
    pin TEXT     GETPIN answers TEXT (CONFIRM: OK)
    cancel       the person pressed Cancel (ERR 83886179 Operation cancelled)
    ok           CONFIRM: OK (GETPIN: cancel)
    hang N       nobody answers for N seconds (then cancel)
An exhausted script cancels. Every command the agent sends is appended,
percent-decoded, to $LLAVERO_TEST_PINENTRY_LOG (the PIN it answers never is),
so tests can read what the person was shown: SETDESC, SETERROR ...
"""
import os
import sys
import time
import urllib.parse

SCRIPT = os.environ.get('LLAVERO_TEST_PINENTRY_SCRIPT', '')
LOG = os.environ.get('LLAVERO_TEST_PINENTRY_LOG', '')
CANCELLED = 'ERR 83886179 Operation cancelled <Pinentry>'


def log(line):
    if LOG:
        with open(LOG, 'a', encoding='utf-8') as f:
            f.write(line + '\n')


def next_action():
    if not SCRIPT or not os.path.exists(SCRIPT):
        return ('cancel', '')
    pos_file = SCRIPT + '.pos'
    try:
        pos = int(open(pos_file).read().strip() or 0)
    except (OSError, ValueError):
        pos = 0
    lines = [l.rstrip('\n') for l in open(SCRIPT, encoding='utf-8') if l.strip()]
    with open(pos_file, 'w') as f:
        f.write(str(pos + 1))
    if pos >= len(lines):
        return ('cancel', '')
    word, _, arg = lines[pos].partition(' ')
    return (word, arg)


def out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def escape(data):
    return data.replace('%', '%25').replace('\r', '%0D').replace('\n', '%0A')


def main():
    log('# pinentry %d' % os.getpid())
    out('OK Pleased to meet you, process %d' % os.getpid())
    for raw in sys.stdin:
        line = raw.rstrip('\r\n')
        cmd, _, arg = line.partition(' ')
        cmd = cmd.upper()
        log('%s %s' % (cmd, urllib.parse.unquote(arg)) if arg else cmd)
        if cmd == 'GETPIN':
            word, value = next_action()
            if word == 'hang':
                log('-> hang')
                time.sleep(float(value or 10))
            if word == 'pin':
                log('-> pin')
                out('D ' + escape(value))
                out('OK')
            else:
                log('-> cancel')
                out(CANCELLED)
        elif cmd == 'CONFIRM' or cmd == 'MESSAGE':
            word, _ = next_action() if cmd == 'CONFIRM' else ('ok', '')
            log('-> ' + ('ok' if word in ('ok', 'pin') else 'cancel'))
            out('OK' if word in ('ok', 'pin') else CANCELLED)
        elif cmd == 'GETINFO':
            if arg == 'pid':
                out('D %d' % os.getpid())
            elif arg == 'version':
                out('D 1.2.1')
            elif arg == 'flavor':
                out('D llavero-test')
            out('OK')
        elif cmd == 'BYE':
            out('OK closing connection')
            return
        else:
            out('OK')


if __name__ == '__main__':
    main()
