"""`python -m pipelines.synth --province "Kiên Giang" --martyrs 1826 --seed 7 --out data/`; a country:
`python -m pipelines.synth --national --provinces 5 --martyrs-per-province 1000 --seed 7 --out DIR`"""

import sys

from lietsi.synth import main, national_main

if __name__ == "__main__":
    national_main() if "--national" in sys.argv[1:] else main()
