"""Barrier rounds: four threads compute in rounds; nobody starts round r+1 before all have
finished round r. The barrier's action (run once per round, by the last thread to arrive)
records the round."""

import threadkit.threading as threading

PARTIES = 4
ROUNDS = 3
lock = threading.Lock()
done_in_round = {r: 0 for r in range(ROUNDS)}
report = []


def end_of_round():
    r = len(report)
    report.append(f"round {r}: all {done_in_round[r]} threads done")


barrier = threading.Barrier(PARTIES, action=end_of_round)


def worker():
    for r in range(ROUNDS):
        with lock:
            assert len(report) == r  # no one is ahead of the round
            done_in_round[r] += 1
        barrier.wait()


threads = [threading.Thread(target=worker) for _ in range(PARTIES)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for line in report:
    print(line)
