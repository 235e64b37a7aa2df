from energygan.cli import main

main()
