from gtask.cli.main import main

main()
