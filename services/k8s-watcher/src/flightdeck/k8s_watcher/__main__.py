from flightdeck.k8s_watcher.entrypoints.main import main

main()
