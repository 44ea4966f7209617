from hrops.cli import main

main()
