#!/usr/bin/env python3
"""Writes marker-train.csv (4000 rows) and marker-test.csv (1000 rows) for marker-lstm.yaml.

Each row is: label, then 12 token ids. Tokens are 1-9 at random; in half of the rows one random
position holds the marker token 0, and those rows have label 1. A model has to look at every step.
"""
import random
import sys

def rows(count, rng):
    for _ in range(count):
        tokens = [rng.randint(1, 9) for _ in range(12)]
        label = rng.randint(0, 1)
        if label:
            tokens[rng.randrange(12)] = 0
        yield [label] + tokens

def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "."
    rng = random.Random(7)
    for name, count in (("marker-train.csv", 4000), ("marker-test.csv", 1000)):
        with open(f"{folder}/{name}", "w") as out:
            for row in rows(count, rng):
                out.write(",".join(map(str, row)) + "\n")

if __name__ == "__main__":
    main()
