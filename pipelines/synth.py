"""`python -m pipelines.synth --province "Kiên Giang" --martyrs 1826 --seed 7 --out data/`"""

from lietsi.synth import main

if __name__ == "__main__":
    main()
