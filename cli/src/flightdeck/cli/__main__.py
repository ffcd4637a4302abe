from flightdeck.cli.app import main

main()
